import Foundation

/// Everything that decides a run's arithmetic besides the data: a checkpoint stores it, and a
/// resume must match it (the epoch count may grow: training can be extended).
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// The architecture, when it is one of built-in layers.
    public var model: ModelSpec?
    /// For a model of the caller's own layers: its parameters' names and shapes, one per line
    /// ("0.fc1.weight [8, 4]"), which a resume must match.
    public var layout: String?
    /// The seed the initial weights were drawn from.
    public var modelSeed: UInt64
    /// The loss's `name` ("mse", "cross-entropy").
    public var loss: String
    /// The optimizer and its hyperparameters.
    public var optimizer: OptimizerSpec
    /// The learning-rate schedule.
    public var schedule: LRSchedule
    /// The global gradient-norm clip, if any.
    public var clipNorm: Float?
    /// Rows per global batch.
    public var batchSize: Int
    /// The seed of shuffling and dropout.
    public var seed: UInt64
    /// Whether each epoch shuffles the training rows.
    public var shuffle: Bool
    /// Whether an epoch's smaller last batch is skipped.
    public var dropLast: Bool

    /// What differs from `other`, one phrase per field ("batch size 32 ≠ 64"); empty when equal.
    public func differences(from other: TrainingConfiguration) -> [String] {
        var out: [String] = []
        if model != other.model {
            out.append("model \(model?.summary ?? "of its own layers") ≠ \(other.model?.summary ?? "of its own layers")")
        } else if layout != other.layout {
            out.append("the model's parameters differ in name or shape")
        }
        if modelSeed != other.modelSeed { out.append("model seed \(modelSeed) ≠ \(other.modelSeed)") }
        if loss != other.loss { out.append("loss \(loss) ≠ \(other.loss)") }
        if optimizer != other.optimizer { out.append("optimizer \(optimizer.summary) ≠ \(other.optimizer.summary)") }
        if schedule != other.schedule { out.append("learning-rate schedule differs") }
        if clipNorm != other.clipNorm { out.append("clip norm \(clipNorm.map { "\($0)" } ?? "none") ≠ \(other.clipNorm.map { "\($0)" } ?? "none")") }
        if batchSize != other.batchSize { out.append("batch size \(batchSize) ≠ \(other.batchSize)") }
        if seed != other.seed { out.append("seed \(seed) ≠ \(other.seed)") }
        if shuffle != other.shuffle { out.append("shuffle \(shuffle) ≠ \(other.shuffle)") }
        if dropLast != other.dropLast { out.append("drop-last \(dropLast) ≠ \(other.dropLast)") }
        return out
    }
}
