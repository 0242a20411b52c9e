import CThreading
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A reusable barrier for a fixed number of threads that spins briefly, then yields, then
/// blocks, so it is fast when every thread has a core and still correct and cheap when workers
/// outnumber cores. It can be broken: every waiter, present and future, then throws.
public final class Barrier: @unchecked Sendable {
    /// Threads that must arrive before any passes.
    public let parties: Int
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let broken = Atomic<Bool>(false)
    /// Parties that have left (their job ended) and will not arrive again before a `reset`.
    private let departed = Atomic<Int>(0)
    private let spins: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Why the barrier broke; written under `mutex`.
    private var reason: String?
    /// What the parties were doing, for the message of a barrier broken by a departure (set
    /// once, before any party arrives): the ranks' counts of collectives tell which one a rank
    /// called that another never did.
    var describeParties: (@Sendable () -> String)?

    /// `spins`: pause iterations before yielding; 0 when threads outnumber cores is right.
    public init(parties: Int, spins: Int = 4000) {
        precondition(parties >= 1)
        self.parties = parties
        self.spins = spins
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(condition)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Why the barrier was broken, if it was.
    /// Whether the barrier is broken (cheap: no lock).
    public var isBroken: Bool { broken.load(ordering: .acquiring) }

    public var brokenReason: String? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return reason
    }

    /// Waits until all parties have arrived. Throws `WorkerAborted` if the barrier is broken
    /// before or while waiting.
    public func wait() throws(WorkerAborted) {
        if broken.load(ordering: .acquiring) { throw WorkerAborted(reason: brokenReason ?? "aborted") }
        let seen = generation.load(ordering: .acquiring)
        let now = arrived.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        if now < parties, now + departed.load(ordering: .sequentiallyConsistent) == parties {
            breakForDeparture()
            throw WorkerAborted(reason: brokenReason ?? "aborted")
        }
        if now == parties {
            arrived.store(0, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            return
        }
        var i = 0
        while i < spins {
            if generation.load(ordering: .acquiring) != seen { return }
            lockstep_cpu_relax()
            i += 1
        }
        for _ in 0..<64 {
            if generation.load(ordering: .acquiring) != seen { return }
            if broken.load(ordering: .relaxed) { break }
            lockstep_yield()
        }
        pthread_mutex_lock(mutex)
        sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen && !broken.load(ordering: .acquiring) {
            pthread_cond_wait(condition, mutex)
        }
        sleepers.wrappingSubtract(1, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        if generation.load(ordering: .acquiring) == seen {
            throw WorkerAborted(reason: brokenReason ?? "aborted")
        }
    }

    /// A party leaves for good (its job ended): if every party still here is waiting, none
    /// would ever be released, so the barrier breaks instead of hanging.
    public func leave() {
        let gone = departed.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
        let waiting = arrived.load(ordering: .sequentiallyConsistent)
        if waiting > 0, waiting + gone == parties { breakForDeparture() }
    }

    /// Why a barrier breaks when a party leaves while others wait for it.
    public static let departureReason = "a party left while the others wait here: a rank's job ended without this collective"

    /// Why a party that left while others wait broke the barrier, with what each was doing.
    func departureMessage() -> String {
        Self.departureReason + (describeParties.map { " (\($0()))" } ?? "")
    }

    /// Breaks the barrier because a party left while others wait, naming what each was doing.
    public func breakForDeparture() { breakBarrier(reason: departureMessage()) }

    /// Breaks the barrier: every thread waiting now or later throws `WorkerAborted(reason)`.
    /// The first reason given is kept.
    public func breakBarrier(reason: String) {
        pthread_mutex_lock(mutex)
        if self.reason == nil { self.reason = reason }
        broken.store(true, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Mends a broken barrier for the next run. Call it only while no thread waits (between
    /// runs of a worker pool).
    public func reset() {
        pthread_mutex_lock(mutex)
        arrived.store(0, ordering: .sequentiallyConsistent)
        broken.store(false, ordering: .sequentiallyConsistent)
        departed.store(0, ordering: .sequentiallyConsistent)
        reason = nil
        pthread_mutex_unlock(mutex)
    }
}

/// Thrown by a worker whose group was aborted because of a failure elsewhere.
public struct WorkerAborted: Error, CustomStringConvertible {
    /// Why the group was aborted (usually the failing worker's error).
    public var reason: String
    public var description: String { "aborted: \(reason)" }
    /// A collective that cannot go on because of `reason` (a transport's wait cancelled).
    public init(reason: String) { self.reason = reason }
}
