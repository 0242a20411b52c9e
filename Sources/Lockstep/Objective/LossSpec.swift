/// A loss as a value, by the name the command line, model files, checkpoints and logs use:
/// the one place a name becomes a loss function.
///
/// ```swift
/// let spec = LossSpec(rawValue: "cross-entropy")!    // or .default(for: data.task)
/// try spec.check(task: data.task, targetName: data.targetName)
/// let loss = spec.make()                              // CrossEntropyLoss()
/// ```
public enum LossSpec: String, Codable, CaseIterable, Sendable {
    case mse, l1, huber, crossEntropy = "cross-entropy", bce

    /// The loss function (Huber with PyTorch's default δ = 1).
    public func make() -> any Loss {
        switch self {
        case .mse: return MSELoss()
        case .l1: return L1Loss()
        case .huber: return HuberLoss()
        case .crossEntropy: return CrossEntropyLoss()
        case .bce: return BCEWithLogitsLoss()
        }
    }

    /// What a task trains with unless told otherwise: cross-entropy for classes, MSE for numbers.
    public static func `default`(for task: LearningTask) -> LossSpec { task == .classification ? .crossEntropy : .mse }

    /// The spec of a loss function, by its `name`; nil for a loss of the caller's own.
    public init?(_ loss: any Loss) { self.init(rawValue: loss.name) }

    /// Refuses a loss that cannot train this task's target, saying which and why.
    public func check(task: LearningTask, targetName: String) throws {
        switch self {
        case .crossEntropy where task != .classification:
            throw ConfigurationError("--loss cross-entropy needs a classification target, but '\(targetName)' is a regression target")
        case .mse, .l1, .huber:
            if task == .classification {
                throw ConfigurationError("--loss \(rawValue) needs a regression target, but '\(targetName)' holds class labels (try --task regression)")
            }
        default: break
        }
    }
}
