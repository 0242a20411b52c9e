import Foundation
import CThreading

/// Long-lived threads, one per worker, each pinned to its CPU when it starts. `run` executes a
/// job on all of them at once and returns when every one has finished; memory a job allocates
/// is first touched on the worker's own CPU.
///
/// A job that throws on one worker calls `onFailure` at once (the engine aborts its
/// communicator there, so the other workers stop waiting), and `run` rethrows one error: of the
/// failures that are not a mere `WorkerAborted`, the lowest rank's, wrapped with that rank.
public final class WorkerPool: @unchecked Sendable {
    /// Number of worker threads.
    public let size: Int
    /// The CPU each worker was pinned to, or nil where pinning failed or was not asked for.
    public private(set) var pinnedCPUs: [Int?]
    private let state: PoolState
    /// The threads, joined when the pool goes: their stacks and the sanitizers' records of them
    /// are released before the pool's deinit returns.
    private var threads: [pthread_t] = []

    /// Starts `size` threads; worker k pins itself to `cpus[k]` when `cpus` is given. Throws when
    /// the system refuses a thread (its limit on threads or memory): the threads already started
    /// are stopped again, and nothing waits for the one that never ran.
    public init(size: Int, cpus: [Int]?, stackBytes: Int = 8 << 20) throws {
        precondition(size >= 1)
        precondition(cpus == nil || cpus!.count == size)
        self.size = size
        state = PoolState(size: size)
        pinnedCPUs = Array(repeating: nil, count: size)
        let started = DispatchGroup()
        let pins = PinResults(size: size)
        for k in 0..<size {
            started.enter()
            let state = self.state
            let start = ThreadStart {
                if let cpu = cpus?[k], pinCurrentThread(toCPU: cpu) { pins.set(k, cpu) }
                started.leave()
                state.serve(rank: k)
            }
            let context = Unmanaged.passRetained(start).toOpaque()
            var thread = pthread_t()
            let error = lockstep_start_thread({ Unmanaged<ThreadStart>.fromOpaque($0!).takeRetainedValue().body() },
                                              context, max(stackBytes, 0), "lockstep-w\(k)", &thread)
            if error == 0 { threads.append(thread) }
            if error != 0 {
                Unmanaged<ThreadStart>.fromOpaque(context).release()
                started.leave()
                started.wait()
                state.shutDown(started: k)
                for thread in threads { pthread_join(thread, nil) }
                throw ConfigurationError("cannot start worker thread \(k + 1) of \(size): \(String(cString: strerror(error))) "
                                         + "(the system's limit on threads or memory); use fewer workers")
            }
        }
        started.wait()
        pinnedCPUs = pins.values
    }

    deinit {
        state.shutDown()
        for thread in threads where pthread_equal(thread, pthread_self()) == 0 { pthread_join(thread, nil) }
    }

    /// Runs `job(rank)` on every worker and waits for all of them.
    public func run(_ job: @escaping @Sendable (Int) throws -> Void,
                    onFailure: @escaping @Sendable (Int, any Error) -> Void = { _, _ in }) throws {
        try state.run(job, onFailure: onFailure)
    }

    /// Throws when called from one of this pool's own workers (see `run`), before the caller
    /// touches anything its job shares with the running one.
    func checkCaller() throws { try state.checkCaller() }
}

/// A job's failure on one worker.
public struct WorkerFailure: Error, CustomStringConvertible {
    /// The worker whose job failed.
    public var rank: Int
    /// What its job threw.
    public var underlying: any Error
    public var description: String { "worker \(rank): \(underlying)" }
}

/// What a worker thread runs, carried through the C thread start.
private final class ThreadStart {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

private final class PinResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Int?]
    init(size: Int) { values = Array(repeating: nil, count: size) }
    func set(_ k: Int, _ cpu: Int) { lock.lock(); values[k] = cpu; lock.unlock() }
}

/// The job hand-off between the caller and the worker threads, guarded by one condition.
private final class PoolState: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var job: (@Sendable (Int) throws -> Void)?
    private var onFailure: (@Sendable (Int, any Error) -> Void)?
    private var generation = 0
    private var remaining = 0
    private var failures: [WorkerFailure] = []
    private var exiting = false
    private var alive: Int

    init(size: Int) {
        self.size = size
        alive = size
    }

    /// Throws when the calling thread is one of this pool's workers: a job it started would wait
    /// for itself.
    func checkCaller() throws {
        if Thread.current.threadDictionary[Self.ownerKey] as? ObjectIdentifier == ObjectIdentifier(self) {
            throw ConfigurationError("a job on a worker pool started another job on the same pool, which would wait for itself forever")
        }
    }

    func run(_ job: @escaping @Sendable (Int) throws -> Void, onFailure: @escaping @Sendable (Int, any Error) -> Void) throws {
        try checkCaller()
        condition.lock()
        self.job = job
        self.onFailure = onFailure
        failures = []
        remaining = size
        generation += 1
        condition.broadcast()
        while remaining > 0 { condition.wait() }
        self.job = nil
        self.onFailure = nil
        let failures = self.failures
        condition.unlock()
        let roots = failures.filter { !($0.underlying is WorkerAborted) }
        if let root = roots.min(by: { $0.rank < $1.rank }) ?? failures.first {
            throw root
        }
    }

    /// Marks the pool's own threads, so that a job cannot start another job on them.
    static let ownerKey = "lockstep.worker-pool"

    func serve(rank: Int) {
        Thread.current.threadDictionary[Self.ownerKey] = ObjectIdentifier(self)
        var seen = 0
        while true {
            condition.lock()
            while generation == seen && !exiting { condition.wait() }
            if exiting {
                alive -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            seen = generation
            var job = self.job, onFailure = self.onFailure
            condition.unlock()

            var failure: WorkerFailure?
            do { try job!(rank) } catch {
                onFailure!(rank, error)
                // A job that names the failing rank itself (one thread runs several) keeps it.
                failure = error as? WorkerFailure ?? WorkerFailure(rank: rank, underlying: error)
            }
            // Drop the job (and what it captures, often the pool's owner) before reporting done:
            // otherwise the owner's last reference could end on this thread, whose deinit would
            // then wait in shutDown() for this very thread to exit.
            job = nil
            onFailure = nil

            condition.lock()
            if let failure { failures.append(failure) }
            remaining -= 1
            if remaining == 0 { condition.broadcast() }
            condition.unlock()
        }
    }

    /// Stops the threads; `started`: how many were started, when fewer than `size` could be.
    func shutDown(started: Int? = nil) {
        condition.lock()
        if let started { alive = started }
        exiting = true
        condition.broadcast()
        while alive > 0 { condition.wait() }
        condition.unlock()
    }
}
