import CThreading

/// The shared state of the threads of one process that train together: a barrier and, for each
/// rank, the buffer it offers to the current collective. Hand each thread its own
/// `communicator(rank:)`.
///
/// ```swift
/// let group = ThreadGroup(size: 4)
/// // on thread k:
/// let comm = group.communicator(rank: k)
/// try comm.reduceScatter(gradients)   // shard k of `gradients` now holds the sum over ranks
/// ```
public final class ThreadGroup: @unchecked Sendable {
    /// Number of ranks (threads) in the group.
    public let size: Int
    let barrier: Barrier
    /// Buffers offered to reduce-scatter and all-gather: two sets of one slot per rank each,
    /// alternating by call (`reduceParities`, `gatherParities`). A rank writes its slot before the
    /// collective's barrier and others read it only after; with two sets, a fast rank's next call
    /// of the same collective writes the other set, and it cannot reach a third call (which
    /// reuses the first set) before every rank has arrived at the second — done reading the first.
    let reduceSlots: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let gatherSlots: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let reduceParities: UnsafeMutablePointer<Int>
    let gatherParities: UnsafeMutablePointer<Int>
    /// The parts of gather and scatter: slots of their own, so that one right after an
    /// all-gather does not overwrite a slot a slower rank is still copying from.
    let partSlots: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// Scalars of all-reduce: two alternating sets (by call parity) of `maxScalars` per rank.
    let scalarSlots: UnsafeMutablePointer<Double>
    /// Which scalar set each rank's next all-reduce uses; each rank touches only its own.
    let parities: UnsafeMutablePointer<Int>
    /// What each rank's current collective is (kind, root, element count), in two sets alternating
    /// by call: checked after the collective's first barrier, so that ranks that called different
    /// collectives, or the same with other sizes, fail together instead of reading past a buffer.
    let tags: UnsafeMutablePointer<Int>
    let tagParities: UnsafeMutablePointer<Int>
    /// Rank 0's control words of all-gathers, alternating by call parity as the scalars do.
    let words: UnsafeMutablePointer<Int>
    let wordParities: UnsafeMutablePointer<Int>
    /// Per rank: the collectives it has entered in this job and the tag of the last one, each
    /// written by its own rank (relaxed atomics) and read only for the message of a barrier
    /// broken by a rank that left while others wait.
    let progress: UnsafeMutablePointer<Int>
    /// Scalars one all-reduce round moves (a larger call goes in rounds of this many): room for
    /// batch norm's per-channel sums of 512 channels, 16 KB per rank.
    static let maxScalars = 1024
    /// The job-wide rank of this group's rank 0 (process × ranks per process), for messages.
    var firstRank = 0

    /// Threads the ranks run on; a thread with several ranks runs them as a `FiberRing`.
    public let threads: Int
    /// The ranks of each thread: consecutive blocks, as even as they can be.
    let blocks: [Range<Int>]
    /// The thread of each rank.
    let threadOfRank: [Int]
    /// Each thread's ring, or nil for a thread with one rank (it meets the barrier itself).
    let rings: [FiberRing?]

    /// `spins`: how long a barrier spins before yielding; pass 0 when threads outnumber cores.
    /// One thread per rank.
    public convenience init(size: Int, spins: Int? = nil) {
        self.init(ranks: size, threads: size, spins: spins)
    }

    /// `ranks` ranks on `threads` threads (1…ranks): thread t runs ranks
    /// `ranks(ofThread: t)`, a block of consecutive ranks, switching between them at collectives.
    public init(ranks size: Int, threads: Int, spins: Int? = nil) {
        precondition(size >= 1 && (1...size).contains(threads))
        self.size = size
        self.threads = threads
        let blocks = (0..<threads).map { t in (t * size / threads)..<((t + 1) * size / threads) }
        self.blocks = blocks
        threadOfRank = blocks.indices.flatMap { t in blocks[t].map { _ in t } }
        let barrier = Barrier(parties: threads, spins: spins ?? 4000)
        self.barrier = barrier
        rings = blocks.map { $0.count > 1 ? FiberRing(ranks: $0, barrier: barrier) : nil }
        reduceSlots = .allocate(capacity: 2 * size)
        reduceSlots.initialize(repeating: nil, count: 2 * size)
        gatherSlots = .allocate(capacity: 2 * size)
        gatherSlots.initialize(repeating: nil, count: 2 * size)
        reduceParities = .allocate(capacity: size)
        reduceParities.initialize(repeating: 0, count: size)
        gatherParities = .allocate(capacity: size)
        gatherParities.initialize(repeating: 0, count: size)
        partSlots = .allocate(capacity: size)
        partSlots.initialize(repeating: nil, count: size)
        scalarSlots = .allocate(capacity: 2 * size * Self.maxScalars)
        scalarSlots.initialize(repeating: 0, count: 2 * size * Self.maxScalars)
        parities = .allocate(capacity: size)
        parities.initialize(repeating: 0, count: size)
        tags = .allocate(capacity: 2 * size)
        tags.initialize(repeating: 0, count: 2 * size)
        tagParities = .allocate(capacity: size)
        tagParities.initialize(repeating: 0, count: size)
        words = .allocate(capacity: 2)
        words.initialize(repeating: 0, count: 2)
        wordParities = .allocate(capacity: size)
        wordParities.initialize(repeating: 0, count: size)
        progress = .allocate(capacity: 2 * size)
        progress.initialize(repeating: 0, count: 2 * size)
        barrier.describeParties = { [unowned self] in self.describeProgress() }
    }

    deinit {
        reduceSlots.deallocate()
        gatherSlots.deallocate()
        reduceParities.deallocate()
        gatherParities.deallocate()
        partSlots.deallocate()
        scalarSlots.deallocate()
        parities.deallocate()
        tags.deallocate()
        tagParities.deallocate()
        words.deallocate()
        wordParities.deallocate()
        progress.deallocate()
    }

    /// The ranks thread `thread` runs.
    public func ranks(ofThread thread: Int) -> Range<Int> { blocks[thread] }

    /// The thread that runs `rank`.
    public func thread(ofRank rank: Int) -> Int { threadOfRank[rank] }

    /// The barrier of a collective, met by `rank`: a thread's only rank waits at the threads'
    /// barrier; a ring's ranks hand their thread on to each other until the last one meets it.
    func wait(rank: Int) throws(WorkerAborted) {
        if let ring = rings[threadOfRank[rank]] {
            try ring.arrive()
        } else {
            try barrier.wait()
        }
    }

    /// The communicator for rank `rank` (in 0..<size); give each thread its own.
    public func communicator(rank: Int) -> ThreadCommunicator {
        precondition(rank >= 0 && rank < size)
        return ThreadCommunicator(group: self, rank: rank)
    }

    /// Breaks the group's barrier (see `Communicator.abort`).
    public func abort(_ reason: String) { barrier.breakBarrier(reason: reason) }

    /// Makes the group usable again after an abort: the barrier mended and every rank's all-reduce
    /// alternation back in step (a rank that failed early may not have flipped it). Call it only
    /// while no rank is inside a collective.
    public func reset() {
        barrier.reset()
        parities.update(repeating: 0, count: size)
        wordParities.update(repeating: 0, count: size)
        reduceParities.update(repeating: 0, count: size)
        gatherParities.update(repeating: 0, count: size)
        tagParities.update(repeating: 0, count: size)
        for i in 0..<(2 * size) { lockstep_relaxed_store(progress + i, 0) }
    }

    /// Rank `rank` enters a collective tagged `tag`.
    func entered(_ tag: Int, rank: Int) {
        lockstep_relaxed_store(progress + 2 * rank, lockstep_relaxed_load(progress + 2 * rank) + 1)
        lockstep_relaxed_store(progress + 2 * rank + 1, tag)
    }

    /// "collectives each rank entered: rank 0: 57, the last allReduce of 2 elements; rank 1: …".
    func describeProgress() -> String {
        "collectives each rank entered: " + (0..<size).map { r in
            let count = lockstep_relaxed_load(progress + 2 * r)
            return "rank \(firstRank + r): \(count)" + (count > 0 ? ", the last \(ThreadCommunicator.describe(tag: lockstep_relaxed_load(progress + 2 * r + 1)))" : "")
        }.joined(separator: "; ")
    }

    /// This call's set of reduce-scatter (or all-gather) slots for `rank`, flipping its alternation.
    func nextReduceSlots(_ rank: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<Float>?> {
        defer { reduceParities[rank] ^= 1 }
        return reduceSlots + reduceParities[rank] * size
    }

    func nextGatherSlots(_ rank: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<Float>?> {
        defer { gatherParities[rank] ^= 1 }
        return gatherSlots + gatherParities[rank] * size
    }
}
