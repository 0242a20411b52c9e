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
    /// alternating by call (`alternate(.reduce, rank)`, `.gather`). A rank writes its slot before the
    /// collective's barrier and others read it only after; with two sets, a fast rank's next call
    /// of the same collective writes the other set, and it cannot reach a third call (which
    /// reuses the first set) before every rank has arrived at the second — done reading the first.
    private let reduceSlots: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let gatherSlots: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// The parts of gather and scatter: slots of their own, so that one right after an
    /// all-gather does not overwrite a slot a slower rank is still copying from.
    let partSlots: BufferSlots
    /// Where each rank's entry sits in the slots and the tags: each thread's ranks on lines of their own.
    let layout: RankLayout
    /// Scalars of all-reduce: two alternating sets (by call parity) of `maxScalars` per rank.
    let scalarSlots: UnsafeMutablePointer<Double>
    /// What each rank's current collective is (kind, root, element count), in two sets alternating
    /// by call: checked after the collective's first barrier, so that ranks that called different
    /// collectives, or the same with other sizes, fail together instead of reading past a buffer.
    let tags: UnsafeMutablePointer<Int>
    /// Rank 0's control words of all-gathers, alternating by call parity as the scalars do.
    let words: UnsafeMutablePointer<Int>
    /// Whether a small reduce-scatter sums each thread's ranks on that thread before the threads
    /// meet: when every thread runs the same power-of-two count of ranks (two or more), each
    /// thread's block is a subtree of the ranks' summation tree and the threads' tree is the rest
    /// of it, so the sums are the same bits. The owner of a shard then reads one partial sum per
    /// thread instead of every rank's buffer (8 workers on 2 CPUs: 4 lines from the other core
    /// while that core waited, and each of them moved back when its rank's next backward wrote it).
    let sumsByThread: Bool
    /// The largest buffer summed by thread first (one summing block).
    static let partialFloats = 1024
    /// Each thread's partial sums: two sets alternating with the reduce slots, `partialFloats` a thread.
    private let partialSums: AlignedBuffer
    private let partialPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// 0..<threads: the partial sums are by thread, not by rank.
    private let threadIndex: UnsafeMutablePointer<Int>
    /// What each rank alone writes at every collective, on cache lines of its own
    /// (`intsPerRank` apart; ranks of two threads writing one line moved it between the cores at
    /// every call): which of each two slot sets its next call uses, and its progress — the
    /// collectives it has entered in this job and the tag of the last one (relaxed atomics, read
    /// by others only for the message of a barrier broken by a rank that left while others wait).
    private let perRank: UnsafeMutablePointer<Int>
    static let intsPerRank = 16
    /// The collectives whose slot sets alternate by call.
    enum Alternation: Int { case reduce, gather, tag, scalar, word }
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
    /// `rings` by rank, borrowed: every collective asks for its rank's ring, and retaining it
    /// there cost a retain and a release per rank and collective.
    private let ringOfRank: [Unmanaged<FiberRing>?]

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
        let rings = blocks.map { $0.count > 1 ? FiberRing(ranks: $0, barrier: barrier) : nil }
        self.rings = rings
        ringOfRank = threadOfRank.map { rings[$0].map { Unmanaged.passUnretained($0) } }
        let layout = RankLayout(blocks: blocks, ranks: size)
        self.layout = layout
        reduceSlots = layout.allocate(sets: 2, of: UnsafeMutablePointer<Float>?.self)
        gatherSlots = layout.allocate(sets: 2, of: UnsafeMutablePointer<Float>?.self)
        partSlots = BufferSlots(base: layout.allocate(sets: 1, of: UnsafeMutablePointer<Float>?.self), layout: layout.index)
        tags = layout.allocate(sets: 2, of: Int.self)
        scalarSlots = .allocate(capacity: 2 * size * Self.maxScalars)
        scalarSlots.initialize(repeating: 0, count: 2 * size * Self.maxScalars)
        words = .allocate(capacity: 2)
        words.initialize(repeating: 0, count: 2)
        let perThread = size / threads
        sumsByThread = threads >= 2 && size % threads == 0 && perThread >= 2 && perThread & (perThread - 1) == 0
        partialSums = AlignedBuffer(count: sumsByThread ? 2 * threads * Self.partialFloats : 0)
        partialPointers = .allocate(capacity: 2 * threads)
        threadIndex = .allocate(capacity: threads)
        for k in 0..<(2 * threads) { (partialPointers + k).initialize(to: sumsByThread ? partialSums.base + k * Self.partialFloats : nil) }
        for t in 0..<threads { (threadIndex + t).initialize(to: t) }
        perRank = UnsafeMutableRawPointer.allocate(byteCount: size * Self.intsPerRank * MemoryLayout<Int>.stride, alignment: 128)
            .bindMemory(to: Int.self, capacity: size * Self.intsPerRank)
        perRank.initialize(repeating: 0, count: size * Self.intsPerRank)
        barrier.describeParties = { [unowned self] in self.describeProgress() }
    }

    deinit {
        reduceSlots.deallocate()
        gatherSlots.deallocate()
        partSlots.base.deallocate()
        scalarSlots.deallocate()
        tags.deallocate()
        layout.index.deallocate()
        words.deallocate()
        partialPointers.deallocate()
        threadIndex.deallocate()
        perRank.deallocate()
    }

    /// The ranks thread `thread` runs.
    public func ranks(ofThread thread: Int) -> Range<Int> { blocks[thread] }

    /// The thread that runs `rank`.
    public func thread(ofRank rank: Int) -> Int { threadOfRank[rank] }

    /// The barrier of a collective, met by `rank`: a thread's only rank waits at the threads'
    /// barrier; a ring's ranks hand their thread on to each other until the last one meets it.
    /// The last of a thread's ranks to arrive runs `lastArrival` first.
    func wait(rank: Int, lastArrival: () -> Void = {}) throws(WorkerAborted) {
        if let ring = ringOfRank[rank] {
            let failure: WorkerAborted? = ring._withUnsafeGuaranteedRef { ring in
                do throws(WorkerAborted) { try ring.arrive(lastArrival) } catch { return error }
                return nil
            }
            if let failure { throw failure }
        } else {
            lastArrival()
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
        for rank in 0..<size {
            for kind in 0...Alternation.word.rawValue { perRank[rank * Self.intsPerRank + kind] = 0 }
            lockstep_relaxed_store(progress(rank), 0)
            lockstep_relaxed_store(progress(rank) + 1, 0)
        }
    }

    /// Rank `rank` enters a collective tagged `tag`.
    func entered(_ tag: Int, rank: Int) {
        let p = progress(rank)
        lockstep_relaxed_store(p, lockstep_relaxed_load(p) + 1)
        lockstep_relaxed_store(p + 1, tag)
    }

    /// "collectives each rank entered: rank 0: 57, the last allReduce of 2 elements; rank 1: …".
    func describeProgress() -> String {
        "collectives each rank entered: " + (0..<size).map { r in
            let count = lockstep_relaxed_load(progress(r))
            return "rank \(firstRank + r): \(count)" + (count > 0 ? ", the last \(ThreadCommunicator.describe(tag: lockstep_relaxed_load(progress(r) + 1)))" : "")
        }.joined(separator: "; ")
    }

    /// This call's set of reduce-scatter (or all-gather) slots for `rank`, flipping its alternation.
    /// The slot set (0 or 1) `rank`'s call of `kind` uses now; its next call uses the other.
    func alternate(_ kind: Alternation, _ rank: Int) -> Int {
        let p = perRank + rank * Self.intsPerRank + kind.rawValue
        defer { p.pointee ^= 1 }
        return p.pointee
    }

    /// `rank`'s count of collectives entered, then the tag of the last.
    private func progress(_ rank: Int) -> UnsafeMutablePointer<Int> { perRank + rank * Self.intsPerRank + 8 }

    func nextReduceSlots(_ rank: Int) -> BufferSlots { reduceSlots(set: alternate(.reduce, rank)) }

    /// Set `set` (0 or 1) of the reduce-scatter's slots.
    func reduceSlots(set: Int) -> BufferSlots {
        BufferSlots(base: reduceSlots + set * layout.perSet, layout: layout.index)
    }

    /// Each thread's partial sum of set `set` of a reduce-scatter, by thread (`sumsByThread`).
    func partials(set: Int) -> BufferSlots {
        BufferSlots(base: partialPointers + set * threads, layout: threadIndex)
    }

    func nextGatherSlots(_ rank: Int) -> BufferSlots {
        BufferSlots(base: gatherSlots + alternate(.gather, rank) * layout.perSet, layout: layout.index)
    }
}
