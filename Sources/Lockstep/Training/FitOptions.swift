import Foundation

/// How `DataParallelTrainer.fit` runs: the loop's shape, what it evaluates, when it stops early,
/// and where its checkpoints go.
///
/// ```swift
/// var options = FitOptions(epochs: 100, batchSize: 32)
/// options.validation = split.validation
/// options.test = split.test
/// options.earlyStopping = EarlyStopping(metric: .validationLoss, patience: 10)
/// options.keepBest = true
/// options.checkpoints = CheckpointPolicy(directory: "runs/iris", everyEpochs: 5)
/// ```
public struct FitOptions: Sendable {
    /// Epochs to train in the whole run (a resumed run counts the earlier ones).
    public var epochs: Int
    /// Rows per global batch, split over the workers (PyTorch's `batch_size`).
    public var batchSize: Int
    /// Seeds shuffling and dropout.
    public var seed: UInt64 = 0
    /// Shuffle the training rows every epoch (PyTorch's `DataLoader(shuffle=True)`).
    public var shuffle = true
    /// Report every step's global batch loss (`TrainingEvent.stepLoss`): one more sum over the
    /// workers a step, so off unless a loss curve per step is wanted.
    public var stepLosses = false
    /// Skip an epoch's last batch when it is smaller than `batchSize` (PyTorch's `drop_last`).
    public var dropLast = false
    /// Evaluated at every evaluation point; drives early stopping and the best model.
    public var validation: Dataset?
    /// Evaluated at every evaluation point for the report only; never drives a decision.
    public var test: Dataset?
    /// Evaluate every this many epochs (and after the last).
    public var evaluateEveryEpochs = 1
    /// Patience and the metric that decides the best model (on the validation split).
    public var earlyStopping = EarlyStopping()
    /// Keep a copy of the weights at the best validation metric (`DataParallelTrainer.bestModel()`).
    public var keepBest = false
    /// When the fit ends, put the best weights back into the trainer's replicas (Keras's
    /// `restore_best_weights`): `trainer.model` is then the best model, and a next fit starts
    /// from it. Needs `keepBest`. A stopped or failed fit keeps the weights it had.
    public var restoreBest = false
    /// Evaluations of rising validation loss under falling training loss before a warning.
    public var overfittingWindow = 3
    /// Where and how often to write checkpoints; nil writes none.
    public var checkpoints: CheckpointPolicy?
    /// Continue the run this checkpoint was taken from.
    public var resume: Checkpoint?
    /// The standardization of regression targets: evaluation metrics (MAE, RMSE) are reported
    /// in the target's own units by undoing it. The loss stays in the units the model trains in.
    public var targetScaling: Standardizer?
    /// The data's fingerprint for checkpoints; by default a hash of the training set's contents.
    public var dataFingerprint: DataFingerprint?
    /// The data's fingerprint as checkpoints written before XXH3 made it (SHA-256), asked for
    /// only when `resume` is such a checkpoint — by `preflight` and again by `fit`, so keep what
    /// it computes: a file's SHA-256 is a pass over it. Without it, a `Dataset`'s own SHA-256 is
    /// used, and other data refuses such a checkpoint.
    public var legacyDataFingerprint: (@Sendable () throws -> DataFingerprint)?
    /// Stops this fit when its `stop()` is called — also before the fit starts, which
    /// `DataParallelTrainer.stop()` cannot do (see `StopToken`).
    public var stopToken: StopToken?

    /// Options for `epochs` of `batchSize`-row batches, shuffled and with dropout seeded by `seed`.
    public init(epochs: Int, batchSize: Int, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
    }
}

/// Where and how often checkpoints are written. Each fit writes into a run folder of its own,
/// `directory/run-N`, locked while it runs (see `RunDirectory`): earlier runs' files are never
/// in the way, and `ResumePoint.newest(in: directory)` finds the newest run to continue.
///
/// ```swift
/// options.checkpoints = CheckpointPolicy(directory: "runs/iris", everyEpochs: 5)   // runs/iris/run-0, run-1, …
/// // Continuing a run: its own folder, locked before anything else is touched.
/// let point = try ResumePoint.newest(in: "runs/iris")
/// options.resume = point.checkpoint
/// options.checkpoints = CheckpointPolicy(run: try RunDirectory.open(point.runDirectory!), everyEpochs: 5)
/// ```
public struct CheckpointPolicy: Sendable {
    /// The checkpoint directory, which holds the run folders.
    public var directory: String
    /// The run folder to write into, already locked by the caller (a resumed run's, or one made
    /// before the caller's other files); nil: `fit` creates and locks the next `run-N` in
    /// `directory`, and removes it again if the fit fails before writing a checkpoint.
    public var run: RunDirectory?
    /// Write one every this many epochs, and at the end, on `stop()` and on early stopping.
    public var everyEpochs: Int
    /// How many checkpoint files to keep (the newest of those this run wrote).
    public var keep: Int

    /// Checkpoints into a new run folder of `directory`, every `everyEpochs` epochs (at least 1),
    /// keeping the newest `keep` (at least 1).
    public init(directory: String, everyEpochs: Int = 1, keep: Int = 3) {
        self.directory = directory
        self.everyEpochs = max(everyEpochs, 1)
        self.keep = max(keep, 1)
    }

    /// Checkpoints into `run`, a run folder the caller opened (and closes).
    public init(run: RunDirectory, everyEpochs: Int = 1, keep: Int = 3) {
        self.init(directory: PathText.parent(of: run.path), everyEpochs: everyEpochs, keep: keep)
        self.run = run
    }
}
