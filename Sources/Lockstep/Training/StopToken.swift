import Synchronization

/// A stop that a caller can request of one fit before it starts or while it runs: the fit given
/// it in `FitOptions.stopToken` ends after its current step (or at its first, if the stop came
/// first), writes its checkpoint when checkpoints are on, and returns a result that says
/// `stopped`. A signal handler's relay, a cancelled task or a UI button holds one; unlike
/// `DataParallelTrainer.stop()`, it cannot reach a later fit by accident.
///
/// ```swift
/// let token = StopToken()
/// options.stopToken = token
/// Task { try await Task.sleep(for: .seconds(60)); token.stop() }   // a time limit
/// let result = try trainer.fit(train, options)                     // result.stopped after a minute
/// ```
public final class StopToken: Sendable {
    private let flag = Atomic<Bool>(false)
    /// Another token whose stop stops this one too (a caller's, under the async fit's own).
    private let parent: StopToken?

    /// A token not yet stopped; `parent`'s stop counts as this one's.
    public init(parent: StopToken? = nil) { self.parent = parent }

    /// Requests the stop. Safe from any thread, any number of times.
    public func stop() { flag.store(true, ordering: .sequentiallyConsistent) }

    /// Whether a stop was requested (of this token or its parent).
    public var isStopped: Bool { flag.load(ordering: .sequentiallyConsistent) || parent?.isStopped == true }
}
