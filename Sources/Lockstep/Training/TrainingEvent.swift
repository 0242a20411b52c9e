/// What the trainer reports while it runs, on the coordinating worker's thread — except
/// `.checkpointSaved`, which comes from the background checkpoint writer once the file is safe,
/// so a handler must be thread-safe. Keep handlers short: the other workers wait for the
/// coordinating worker at the next synchronization point.
public enum TrainingEvent: Sendable {
    /// An optimizer step finished on every worker (`step` counts from 1 over the whole run).
    case stepEnded(epoch: Int, step: Int, stepsPerEpoch: Int)
    /// The global batch's loss of the step just ended (before `.stepEnded`); only with
    /// `FitOptions.stepLosses`, which costs a sum over the workers each step.
    case stepLoss(step: Int, loss: Float)
    /// An epoch finished: its mean training loss, metrics at evaluation points, throughput.
    case epochEnded(EpochReport)
    /// A checkpoint file was written (in the background; this reports it, from the writer's
    /// queue, once it is safe).
    case checkpointSaved(path: String)
    /// Something the user should know that does not stop training.
    case warning(String)
}

/// The summary of one epoch.
public struct EpochReport: Codable, Sendable, Equatable {
    /// 0-based epoch index.
    public var epoch: Int
    /// Optimizer steps taken so far in the run.
    public var step: Int
    /// Mean over the epoch's batches of the global-batch loss.
    public var trainLoss: Float
    /// Metrics on the validation set, when there is one and the epoch is an evaluation point.
    public var validation: Metrics?
    /// Metrics on the test set, when there is one and the epoch is an evaluation point.
    public var test: Metrics?
    /// Training rows per second of epoch wall time, over all workers.
    public var samplesPerSecond: Double
    /// Wall time since `fit` started.
    public var elapsedSeconds: Double
}

/// How `fit` ended.
public struct FitResult: Sendable {
    /// Epochs completed in the whole run (a resumed run counts the earlier ones).
    public var epochs: Int
    /// Optimizer steps taken by this call.
    public var steps: Int
    /// Whether `stop()` ended the run early.
    public var stopped: Bool
    /// Whether early stopping ended the run.
    public var earlyStopped: Bool
    /// Every completed epoch's report, of the whole run.
    public var history: [EpochReport]
    /// The newest checkpoint written, if any.
    public var lastCheckpoint: String?
    /// The best validation figure and its epoch, when there was a validation split.
    public var best: (epoch: Int, value: Float)?
}

/// A training run that failed: one worker's error, named with its worker and step.
public enum TrainingError: Error, CustomStringConvertible {
    /// A worker's loss was NaN or infinite. `lastCheckpoint` is the newest good checkpoint.
    case nonFiniteLoss(worker: Int, step: Int, value: Float, lastCheckpoint: String?)
    /// Anything else a worker threw.
    case workerFailed(worker: Int, step: Int, reason: String)
    /// A checkpoint could not be written (a full disk, a file-size limit): the run stopped at the
    /// first epoch's end after the failed write (it runs in the background) rather than train on
    /// with nothing to resume from. `lastCheckpoint` is the newest one written.
    case checkpointFailed(step: Int, reason: String, lastCheckpoint: String?)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(worker, step, value, checkpoint):
            return "worker \(worker), step \(step): the loss is \(value); training stopped"
                + (checkpoint.map { ". The last good checkpoint is \($0): resume from it with a lower learning rate" } ?? "")
        case let .workerFailed(worker, step, reason):
            return "worker \(worker), step \(step): \(reason)"
        case let .checkpointFailed(step, reason, checkpoint):
            return "a checkpoint could not be written (\(reason)); training stopped at step \(step)"
                + (checkpoint.map { ". The last checkpoint written is \($0)" } ?? ", before any checkpoint was written")
        }
    }
}
