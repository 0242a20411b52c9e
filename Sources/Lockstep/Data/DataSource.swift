/// Samples the engine trains on, drawn by row: the sharder shuffles and shards the row indices
/// `0..<count` over the workers, and each worker gathers its rows into its batch's memory. A
/// `Dataset` is one; a source of the caller's own — a sliding window over a long series or a
/// token file, samples made on the fly — is sharded, shuffled and checkpointed the same way.
///
/// A gather must depend on nothing but the rows asked for (workers gather concurrently, and a
/// resume must see the same samples): the same row always gives the same sample.
///
/// ```swift
/// struct Windows: DataSource {             // every window of 16 values, predicting the next one
///     let series: [Float]
///     var count: Int { series.count - 16 }
///     var sampleShape: Shape { Shape(1, 16) }  // [channels, length], for a Conv1d
///     var targetShape: Shape { Shape(1) }
///     var task: LearningTask { .regression }
///     func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>,
///                 targets: UnsafeMutablePointer<Float>) {
///         for (i, row) in rows.enumerated() {
///             for t in 0..<16 { features[i * 16 + t] = series[row + t] }
///             targets[i] = series[row + 16]
///         }
///     }
///     func fingerprint() -> DataFingerprint { DataFingerprint(digest: "…", description: "windows of 16") }
/// }
/// ```
public protocol DataSource: Sendable {
    /// Samples (rows) to draw from.
    var count: Int { get }
    /// One sample's input, without the batch dimension: [features], [C, L], [C, H, W].
    var sampleShape: Shape { get }
    /// One sample's target, without the batch dimension: `.scalar` for a class index (or one
    /// value), [k] for k values.
    var targetShape: Shape { get }
    /// Whether the targets are class indices or values.
    var task: LearningTask { get }
    /// Classes a class index may name (classification; 0 otherwise).
    var classCount: Int { get }
    /// Writes the samples at `rows` side by side into `features` (rows.count × sampleShape.count
    /// Floats) and their targets into `targets` (rows.count × targetShape.count).
    func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>,
                targets: UnsafeMutablePointer<Float>)
    /// What identifies these samples, for a checkpoint: a resume refuses other data. Called only
    /// when the run checkpoints or resumes.
    func fingerprint() -> DataFingerprint
}

extension DataSource {
    public var classCount: Int { 0 }

    /// The shape of a batch of `n` samples: [n] + `sampleShape`.
    public func batchShape(rows n: Int) -> Shape { sampleShape.prepending(n) }

    /// The shape of a batch of `n` targets: [n] for class indices, [n, k] for k values.
    public func targetBatchShape(rows n: Int) -> Shape { targetShape.prepending(n) }
}

extension Dataset: DataSource {
    public var sampleShape: Shape { features.shape.droppingFirst() }
    public var targetShape: Shape { targets.shape.droppingFirst() }
    public var classCount: Int { task == .classification ? classLabels.count : 0 }
    public func fingerprint() -> DataFingerprint { DataFingerprint(of: self) }
}
