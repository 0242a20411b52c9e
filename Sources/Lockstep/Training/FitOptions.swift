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
    public var epochs: Int
    public var batchSize: Int
    /// Seeds shuffling and dropout.
    public var seed: UInt64 = 0
    public var shuffle = true
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
    /// Evaluations of rising validation loss under falling training loss before a warning.
    public var overfittingWindow = 3
    public var checkpoints: CheckpointPolicy?
    /// Continue the run this checkpoint was taken from.
    public var resume: Checkpoint?
    /// The standardization of regression targets: evaluation metrics (MAE, RMSE) are reported
    /// in the target's own units by undoing it. The loss stays in the units the model trains in.
    public var targetScaling: Standardizer?
    /// The data's fingerprint for checkpoints; by default a hash of the training set's contents.
    public var dataFingerprint: DataFingerprint?

    public init(epochs: Int, batchSize: Int, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
    }
}

/// Where and how often checkpoints are written.
public struct CheckpointPolicy: Sendable {
    public var directory: String
    /// Write one every this many epochs, and at the end, on `stop()` and on early stopping.
    public var everyEpochs: Int
    /// How many checkpoint files to keep (the newest).
    public var keep: Int

    public init(directory: String, everyEpochs: Int = 1, keep: Int = 3) {
        self.directory = directory
        self.everyEpochs = max(everyEpochs, 1)
        self.keep = max(keep, 1)
    }
}
