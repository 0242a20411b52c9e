/// Where the ranks of a job run, and how their jobs start: the one thing the training engine
/// knows about threads and processes. The trainer runs every phase (building replicas, a fit, a
/// resume, a gradient) as one `run` of a job over ranks, and its ranks meet only through the
/// `Communicator` each job is handed — so the same trainer runs over threads in one process
/// (`ThreadLauncher`) and over processes (an MPI launcher runs this process's share of ranks).
///
/// A rank is a worker of the arithmetic, not a thread: results depend on the world size and
/// never on how ranks are mapped onto threads or processes.
public protocol Launcher: AnyObject, Sendable {
    /// Ranks in the whole job.
    var worldSize: Int { get }
    /// The ranks this process runs.
    var localRanks: Range<Int> { get }
    /// The CPU each local rank's thread is pinned to (nil where pinning failed or was not asked for).
    var pinnedCPUs: [Int?] { get }
    /// Runs `job(rank, communicator)` once for every local rank, each on the thread that owns the
    /// rank, and waits for all. A job that throws aborts the communicator at once, so ranks
    /// waiting in a collective throw `WorkerAborted` instead of hanging, and `run` throws one
    /// `WorkerFailure`: the lowest rank's error that is not a mere `WorkerAborted`.
    func run(_ job: @escaping @Sendable (_ rank: Int, _ communicator: any Communicator) throws -> Void) throws
}

/// Runs the ranks of a job on pinned threads of this process, the ranks meeting through a
/// `ThreadGroup` in shared memory. With fewer threads than ranks, each thread runs a block of
/// consecutive ranks in turn (`FiberRing`): the ranks — and so the shards, the summation tree and
/// every byte of the result — are the same as with a thread each.
///
/// `across` a `ProcessTransport` (MPI), the launcher runs this process's share of a job over
/// processes: its ranks are process × ranks + local rank, and they meet the other processes'
/// through `ClusterCommunicator`.
///
/// ```swift
/// let launcher = try ThreadLauncher(ranks: 8, threads: 2)
/// try launcher.run { rank, communicator in
///     try communicator.reduceScatter(gradients[rank].buffer)   // gradients: [AlignedBuffer], one per rank
/// }
/// ```
public final class ThreadLauncher: Launcher {
    public let worldSize: Int
    public let localRanks: Range<Int>
    /// Threads that run this process's ranks.
    public var threadCount: Int { group.threads }
    public var pinnedCPUs: [Int?] { localRanks.map { pool.pinnedCPUs[thread(ofRank: $0)] } }
    /// The thread that runs `rank` (one of `localRanks`).
    public func thread(ofRank rank: Int) -> Int { group.thread(ofRank: rank - localRanks.lowerBound) }
    private let pool: WorkerPool
    private let group: ThreadGroup
    /// By local rank.
    private let communicators: RankSlots<any Communicator>
    /// The machine of each process of the job (empty for a process alone), for messages.
    public let hosts: [String]

    /// Starts `threads` threads (default: one per rank) for `ranks` ranks, thread t pinned to
    /// `cpus[t]` when given. `spins`: how long a barrier spins before it yields (0 when threads
    /// outnumber cores). `across`: the job's other processes, which run `ranks` ranks each.
    public init(ranks: Int, threads: Int? = nil, cpus: [Int]? = nil, spins: Int? = nil,
                across transport: (any ProcessTransport)? = nil) throws {
        let threads = threads ?? ranks
        precondition(ranks >= 1 && (1...ranks).contains(threads) && (cpus == nil || cpus!.count == threads))
        hosts = try transport.map { try Self.agree(ranks: ranks, over: $0) } ?? []
        let processes = transport?.processCount ?? 1, first = (transport?.process ?? 0) * ranks
        worldSize = ranks * processes
        localRanks = first..<(first + ranks)
        pool = try WorkerPool(size: threads, cpus: cpus)
        group = ThreadGroup(ranks: ranks, threads: threads, spins: spins)
        group.firstRank = first
        communicators = RankSlots(count: ranks)
        let group = self.group, communicators = self.communicators
        let node = transport.map { ProcessNode(group: group, transport: $0) }
        // Each rank's scratch memory is first touched on its own thread.
        try! pool.run { thread in
            for rank in group.ranks(ofThread: thread) {
                communicators[rank] = node.map { ClusterCommunicator(node: $0, localRank: rank) } ?? group.communicator(rank: rank)
            }
        }
    }

    /// Every process must run as many ranks as process 0 (the ranks' numbers and every message's
    /// size depend on it): process 0 collects each one's count and host name and answers every
    /// process with the first that differs and every host, so all throw the same error instead of
    /// exchanging messages of sizes the others do not expect. Returns the host of each process.
    static func agree(ranks: Int, over transport: any ProcessTransport) throws -> [String] {
        let count = transport.processCount, slot = 72   // 8 bytes of count, 64 of host name
        guard count > 1 else { return [transport.hostName] }
        var table = [UInt8](repeating: 0, count: count * slot + 8)   // every process's slot, then the verdict
        func put(_ p: Int) {
            withUnsafeBytes(of: Int64(ranks)) { table.replaceSubrange((p * slot)..<(p * slot + 8), with: $0) }
            let name = Array(transport.hostName.utf8.prefix(63))
            table.replaceSubrange((p * slot + 8)..<(p * slot + 8 + name.count), with: name)
        }
        func countOf(_ p: Int) -> Int { table[(p * slot)..<(p * slot + 8)].withUnsafeBytes { Int($0.loadUnaligned(as: Int64.self)) } }
        func host(_ p: Int) -> String {
            String(decoding: table[(p * slot + 8)..<(p * slot + slot)].prefix { $0 != 0 }, as: UTF8.self)
        }
        let me = transport.process
        put(me)
        try table.withUnsafeMutableBytes { all in
            if me == 0 {
                try transport.exchange(sends: [], receives: (1..<count).map { (UnsafeMutableRawBufferPointer(rebasing: all[($0 * slot)..<($0 * slot + slot)]), from: $0) }) { false }
                let differing = (1..<count).first { p in all.load(fromByteOffset: p * slot, as: Int64.self) != Int64(ranks) } ?? -1
                all.storeBytes(of: Int64(differing), toByteOffset: count * slot, as: Int64.self)
                try transport.exchange(sends: (1..<count).map { (UnsafeRawBufferPointer(all), to: $0) }, receives: []) { false }
            } else {
                try transport.exchange(sends: [(UnsafeRawBufferPointer(rebasing: all[(me * slot)..<(me * slot + slot)]), to: 0)],
                                       receives: [(all, from: 0)]) { false }
            }
        }
        let differing = table[(count * slot)...].withUnsafeBytes { Int($0.loadUnaligned(as: Int64.self)) }
        if differing >= 0 {
            throw ConfigurationError("process \(differing) on \(host(differing)) runs \(countOf(differing)) workers, process 0 runs "
                                     + "\(countOf(0)): start every process with the same --workers")
        }
        return (0..<count).map(host)
    }

    public func run(_ job: @escaping @Sendable (Int, any Communicator) throws -> Void) throws {
        // A job that starts another on its own launcher is refused before the reset: every one of
        // its workers would reset the group at once (ThreadSanitizer saw the race).
        try pool.checkCaller()
        group.reset()   // a failed job leaves the barrier broken
        let communicators = self.communicators
        let group = self.group, first = localRanks.lowerBound
        try pool.run({ thread in
            if let ring = group.rings[thread] {
                do {
                    try ring.run({ rank in try job(first + rank, communicators[rank]) },
                                 onFailure: { rank, error in group.abort("worker \(first + rank) failed: \(error)") })
                } catch let failure as WorkerFailure {   // the ring counts its ranks from 0
                    throw WorkerFailure(rank: first + failure.rank, underlying: failure.underlying)
                }
            } else {
                let rank = group.ranks(ofThread: thread).lowerBound
                do { try job(first + rank, communicators[rank]) } catch { throw WorkerFailure(rank: first + rank, underlying: error) }
            }
            group.barrier.leave()   // ranks still waiting in a collective this one never called: an error, not a hang
        }, onFailure: { thread, error in
            let failure = error as? WorkerFailure ?? WorkerFailure(rank: first + group.ranks(ofThread: thread).lowerBound, underlying: error)
            group.abort("worker \(failure.rank) failed: \(failure.underlying)")
        })
    }
}

/// One value per rank, each written by its own rank's thread inside a job and read by others
/// only after the job (the pool's hand-back orders the two). Raw storage, not an Array: an
/// Array's mutation touches its shared header from every writing thread.
public final class RankSlots<Value>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Value?>
    /// Number of slots, one per rank.
    public let count: Int

    /// `count` empty slots.
    public init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Rank `rank`'s value; reading a slot not yet written traps.
    public subscript(rank: Int) -> Value {
        get { slots[rank]! }
        set { slots[rank] = newValue }
    }
}
