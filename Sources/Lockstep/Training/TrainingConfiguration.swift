import Foundation

/// Everything that decides a run's arithmetic besides the data: a checkpoint stores it, and a
/// resume must match it (the epoch count may grow: training can be extended).
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var model: ModelSpec
    public var modelSeed: UInt64
    public var loss: String
    public var optimizer: OptimizerSpec
    public var schedule: LRSchedule
    public var clipNorm: Float?
    public var batchSize: Int
    public var seed: UInt64
    public var shuffle: Bool
    public var dropLast: Bool

    /// What differs from `other`, one phrase per field ("batch size 32 ≠ 64"); empty when equal.
    public func differences(from other: TrainingConfiguration) -> [String] {
        var out: [String] = []
        if model != other.model { out.append("model \(model.summary) ≠ \(other.model.summary)") }
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
