/// Which validation figure decides early stopping and the best model.
public enum MonitoredMetric: String, Codable, Sendable, CaseIterable {
    case validationLoss = "val_loss"
    case validationAccuracy = "val_accuracy"
    case validationR2 = "val_r2"

    /// Whether larger is better.
    public var maximize: Bool { self != .validationLoss }

    /// The figure in `metrics`, if it has it.
    public func value(in metrics: Metrics) -> Float? {
        switch self {
        case .validationLoss: return metrics.loss
        case .validationAccuracy: return metrics.accuracy
        case .validationR2: return metrics.r2
        }
    }

    /// Throws unless a validation set of `task` has this figure (accuracy for classification,
    /// R² for regression; the loss for both).
    public func check(task: LearningTask) throws {
        switch (self, task) {
        case (.validationAccuracy, .regression):
            throw ConfigurationError("val_accuracy needs a classification target; a regression is monitored by val_loss or val_r2")
        case (.validationR2, .classification):
            throw ConfigurationError("val_r2 needs a regression target; a classification is monitored by val_loss or val_accuracy")
        default: break
        }
    }
}

/// Tracks the best value of a validation metric: early stopping after `patience` evaluations
/// without improvement, and which evaluation the best model came from. Its state is saved in
/// checkpoints, so a resumed run stops where the uninterrupted one would.
public struct EarlyStopping: Codable, Sendable, Equatable {
    /// The validation figure watched (validation loss by default).
    public var metric: MonitoredMetric
    /// Evaluations without improvement before stopping; nil never stops.
    public var patience: Int?
    /// The best value of `metric` so far; nil before the first finite one.
    public private(set) var best: Float?
    /// The epoch (0-based) the best value came from; nil before the first.
    public private(set) var bestEpoch: Int?
    /// Evaluations since the last improvement of `metric`.
    public private(set) var evaluationsWithoutImprovement = 0

    /// Watches `metric`, stopping after `patience` evaluations without improvement (nil: never
    /// stops, only tracks the best model).
    public init(metric: MonitoredMetric = .validationLoss, patience: Int? = nil) {
        self.metric = metric
        self.patience = patience
    }

    /// Records an evaluation; returns whether it is the best so far.
    @discardableResult
    public mutating func record(_ metrics: Metrics, epoch: Int) -> Bool {
        guard let value = metric.value(in: metrics), value.isFinite else { return false }
        let improved = best.map { metric.maximize ? value > $0 : value < $0 } ?? true
        if improved {
            best = value
            bestEpoch = epoch
            evaluationsWithoutImprovement = 0
        } else {
            evaluationsWithoutImprovement += 1
        }
        return improved
    }

    /// Whether patience has run out.
    public var shouldStop: Bool { patience.map { evaluationsWithoutImprovement >= $0 } ?? false }
}

/// Watches for overfitting: training loss still falling while validation loss has risen for
/// `window` evaluations in a row. It speaks once per run.
public struct OverfittingWatch: Codable, Sendable, Equatable {
    /// Evaluations in a row of rising validation loss (with falling training loss) before the warning.
    public var window: Int
    private var previousTrain: Float?
    private var previousValidation: Float?
    private var risingStreak = 0
    /// Whether the warning has been given; it is given at most once.
    public private(set) var reported = false

    /// A watch that warns after `window` evaluations in a row of the pattern.
    public init(window: Int = 3) { self.window = window }

    /// Records an evaluation; returns a warning the first time the pattern shows.
    public mutating func record(trainLoss: Float, validationLoss: Float, epoch: Int) -> String? {
        defer {
            previousTrain = trainLoss
            previousValidation = validationLoss
        }
        guard let pt = previousTrain, let pv = previousValidation else { return nil }
        risingStreak = trainLoss < pt && validationLoss > pv ? risingStreak + 1 : 0
        guard risingStreak >= window, !reported else { return nil }
        reported = true
        return "possible overfitting at epoch \(epoch + 1): training loss still falls while validation loss has risen "
            + "\(window) evaluations in a row. Review model capacity (pillar 2: fewer or narrower layers, dropout, "
            + "weight decay) and the data split (pillar 1: more training rows, a representative validation split)."
    }
}
