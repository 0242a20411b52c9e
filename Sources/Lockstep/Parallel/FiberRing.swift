import CThreading
#if canImport(Glibc)
import Glibc
#endif

/// Several ranks on one thread. Each rank's job runs on a fiber (a stack of its own); at a
/// collective's barrier a rank hands the thread to the next rank of its ring, and the ring's last
/// rank to arrive meets the other threads at the group's barrier, then carries on while the
/// others resume in turn. So `--workers 8` on 2 CPUs runs 2 threads of 4 workers each — the same
/// ranks, shards, summation tree and so the same bytes as 8 threads — and a collective inside a
/// forward or backward pass (batch norm's statistics) works as it does on threads: the thread
/// steps its workers through it one after another.
///
/// A ring is used by one thread at a time (its `run` and the ranks' `arrive` calls all happen on
/// the thread that runs it). Its state is not checked for exclusive access at run time: the
/// checks' records live on the fibers' stacks, and each `arrive` walked those of every suspended
/// fiber (11 % of an 8-worker linreg step on 2 CPUs, perf).
final class FiberRing: @unchecked Sendable {
    /// The ranks of this ring, consecutive.
    let ranks: Range<Int>
    /// The threads' barrier this ring's last arrival meets.
    let barrier: Barrier
    /// Stack of each fiber; what a worker thread gets.
    static let stackBytes = 8 << 20
    @exclusivity(unchecked) private var fibers: [OpaquePointer?] = []
    @exclusivity(unchecked) private var thread: OpaquePointer?
    /// The fiber (index into `ranks`) running now.
    @exclusivity(unchecked) private var current = 0
    /// Ranks of this ring waiting at the barrier now.
    @exclusivity(unchecked) private var arrived = 0
    /// Ranks whose job has ended.
    @exclusivity(unchecked) private var departed = 0
    /// Which fibers' jobs have ended (read at every hand-off: kept here rather than asked of C).
    @exclusivity(unchecked) private var ended: [Bool] = []
    /// How the last barrier ended for the ranks that waited in it: nil when it passed.
    @exclusivity(unchecked) private var outcome: WorkerAborted?
    @exclusivity(unchecked) private var job: ((Int) -> Void)?
    @exclusivity(unchecked) private var failures: [WorkerFailure] = []

    init(ranks: Range<Int>, barrier: Barrier) {
        precondition(ranks.count >= 2, "a ring is for two or more ranks on one thread")
        self.ranks = ranks
        self.barrier = barrier
    }

    /// Runs `job(rank)` for every rank of the ring on the calling thread and returns when all have
    /// ended. `onFailure(rank, error)` is called as soon as a job throws (the engine aborts its
    /// group there); `run` then throws the lowest rank's error that is not a mere `WorkerAborted`
    /// (or the first if all are), as a `WorkerFailure`.
    func run(_ job: @escaping (Int) throws -> Void, onFailure: @escaping (Int, any Error) -> Void) throws {
        arrived = 0
        departed = 0
        outcome = nil
        failures = []
        current = 0
        ended = Array(repeating: false, count: ranks.count)
        self.job = { rank in
            do { try job(rank) } catch {
                onFailure(rank, error)
                self.failures.append(WorkerFailure(rank: rank, underlying: error))
            }
        }
        defer {
            for fiber in fibers { lockstep_fiber_destroy(fiber) }
            lockstep_fiber_destroy(thread)
            fibers = []
            thread = nil
            self.job = nil
        }
        guard let thread = lockstep_fiber_for_thread() else {
            throw WorkerFailure(rank: ranks.lowerBound, underlying: ConfigurationError("out of memory for a worker's fiber"))
        }
        self.thread = thread
        let context = Unmanaged.passUnretained(self).toOpaque()
        for k in 0..<ranks.count {
            guard let fiber = lockstep_fiber_create({ ring in
                Unmanaged<FiberRing>.fromOpaque(ring!).takeUnretainedValue().body()
            }, context, Self.stackBytes, thread) else {
                let rank = ranks.lowerBound + k
                throw WorkerFailure(rank: rank, underlying: ConfigurationError(
                    "cannot map its stack: \(String(cString: strerror(errno))) (the system's limit on memory); use fewer workers"))
            }
            fibers.append(fiber)
        }
        // Each fiber ends by coming back here; the next one after it in the ring goes on.
        var next: Int? = 0
        while let k = next {
            current = k
            lockstep_fiber_switch(thread, fibers[k])
            next = nextRunnable(after: k)
        }
        let roots = failures.filter { !($0.underlying is WorkerAborted) }
        if let root = roots.min(by: { $0.rank < $1.rank }) ?? failures.first { throw root }
    }

    /// The current fiber's whole life.
    private func body() {
        let k = current
        job!(ranks.lowerBound + k)
        departed += 1
        ended[k] = true
        if arrived > 0 {   // ranks of this ring wait at a barrier this one will never reach
            outcome = WorkerAborted(reason: barrier.departureMessage())
        }
    }

    /// The first fiber after `k` in ring order that has not ended.
    private func nextRunnable(after k: Int) -> Int? {
        for step in 1...fibers.count {
            let j = (k + step) % fibers.count
            if !ended[j] { return j }
        }
        return nil
    }

    /// A rank of this ring reaches the threads' `barrier`: it waits, running the
    /// ring's other ranks, until every rank of every thread has arrived. The ring's last rank to
    /// arrive runs `lastArrival` before it meets the other threads (its collective's work for
    /// the whole ring: a small reduce-scatter's sum over the ring's ranks).
    func arrive(_ lastArrival: () -> Void = {}) throws(WorkerAborted) {
        if departed > 0 {
            barrier.breakForDeparture()
            throw WorkerAborted(reason: barrier.brokenReason ?? Barrier.departureReason)
        }
        arrived += 1
        if arrived < ranks.count {
            let me = current
            let next = nextRunnable(after: me)!   // every rank of the ring is alive (departed == 0)
            current = next
            lockstep_fiber_switch(fibers[me], fibers[next])
            if let outcome { throw outcome }
            return
        }
        arrived = 0
        lastArrival()
        do {
            try barrier.wait()
            outcome = nil
        } catch {
            outcome = error
            throw error
        }
    }
}
