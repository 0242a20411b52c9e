/// What the trainer reports while it runs, on the coordinating worker's thread. Keep handlers
/// short: the other workers wait for it at the next synchronization point.
public enum TrainingEvent: Sendable {
    /// An optimizer step finished on every worker (`step` counts from 1 over the whole run).
    case stepEnded(epoch: Int, step: Int, stepsPerEpoch: Int)
    /// An epoch finished: its mean training loss, validation metrics when there is a
    /// validation set, throughput.
    case epochEnded(EpochReport)
}

/// The summary of one epoch.
public struct EpochReport: Codable, Sendable, Equatable {
    /// 0-based epoch index.
    public var epoch: Int
    /// Optimizer steps taken so far in the run.
    public var step: Int
    /// Mean over the epoch's batches of the global-batch loss.
    public var trainLoss: Float
    public var validation: Metrics?
    public var samplesPerSecond: Double
    /// Wall time since `fit` started.
    public var elapsedSeconds: Double
}

/// How `fit` ended.
public struct FitResult: Sendable {
    /// Epochs run to the end.
    public var epochs: Int
    /// Optimizer steps taken.
    public var steps: Int
    /// Whether `stop()` ended the run early.
    public var stopped: Bool
    public var history: [EpochReport]
}

/// A training run that failed: one worker's error, named with its worker and step.
public enum TrainingError: Error, CustomStringConvertible {
    /// A worker's loss was NaN or infinite.
    case nonFiniteLoss(worker: Int, step: Int, value: Float)
    /// Anything else a worker threw.
    case workerFailed(worker: Int, step: Int, reason: String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(worker, step, value):
            return "worker \(worker), step \(step): the loss is \(value); training stopped"
        case let .workerFailed(worker, step, reason):
            return "worker \(worker), step \(step): \(reason)"
        }
    }
}
