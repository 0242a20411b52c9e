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

/// Runs every rank of a job on its own pinned thread of this process, the ranks meeting through
/// a `ThreadGroup` in shared memory.
///
/// ```swift
/// let launcher = try ThreadLauncher(ranks: 4)
/// try launcher.run { rank, communicator in
///     try communicator.reduceScatter(gradients[rank].buffer)   // gradients: [AlignedBuffer], one per rank
/// }
/// ```
public final class ThreadLauncher: Launcher {
    public let worldSize: Int
    public var localRanks: Range<Int> { 0..<worldSize }
    public var pinnedCPUs: [Int?] { pool.pinnedCPUs }
    private let pool: WorkerPool
    private let group: ThreadGroup
    private let communicators: RankSlots<ThreadCommunicator>

    /// Starts `ranks` threads, rank k pinned to `cpus[k]` when given. `spins`: how long a barrier
    /// spins before it yields (0 when threads outnumber cores).
    public init(ranks: Int, cpus: [Int]? = nil, spins: Int? = nil) throws {
        worldSize = ranks
        pool = try WorkerPool(size: ranks, cpus: cpus)
        group = ThreadGroup(size: ranks, spins: spins)
        communicators = RankSlots(count: ranks)
        let group = self.group, communicators = self.communicators
        // Each rank's scratch memory is first touched on its own thread.
        try! pool.run { rank in communicators[rank] = group.communicator(rank: rank) }
    }

    public func run(_ job: @escaping @Sendable (Int, any Communicator) throws -> Void) throws {
        group.reset()   // a failed job leaves the barrier broken
        let communicators = self.communicators
        let group = self.group
        try pool.run({ rank in
            try job(rank, communicators[rank])
            group.barrier.leave()   // ranks still waiting in a collective this one never called: an error, not a hang
        }, onFailure: { rank, error in group.abort("worker \(rank) failed: \(error)") })
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
