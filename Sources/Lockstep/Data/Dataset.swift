import CThreading

/// What a data set's target means: regression or classification. (Not `Task`, which would hide
/// Swift concurrency's `Task` in every file that imports Lockstep.)
public enum LearningTask: String, Codable, Sendable, Equatable {
    case regression
    case classification

    /// DESIGN.md's rule: a text target, or an integer target with at most 20 distinct values, is
    /// classification; anything else is regression.
    public static func infer(numericTargets values: [Float]) -> LearningTask {
        var distinct = Set<Float>()
        for v in values {
            guard v == v.rounded() else { return .regression }
            distinct.insert(v)
            if distinct.count > 20 { return .regression }
        }
        return .classification
    }
}

/// Features and targets (pillar 1).
///
/// `features` is [rows, features]. For regression `targets` is [rows, outputs]; for
/// classification it is [rows] of class indices (as Floats) into `classLabels`.
///
/// ```swift
/// let iris = try Dataset.readCSV(at: "iris.csv")            // target: the last column
/// let split = try iris.split(testFraction: 0.2, seed: 0)     // 120 train / 30 test
/// ```
public struct Dataset: Sendable {
    /// The inputs, [rows, features].
    public var features: Tensor
    /// [rows, outputs] for regression; [rows] of class indices for classification.
    public var targets: Tensor
    /// The feature columns' names ("x0", "x1", … when none were given).
    public var featureNames: [String]
    /// The target column's name.
    public var targetName: String
    /// Whether the targets are values (regression) or class indices (classification).
    public var task: LearningTask
    /// The class names, index by index (classification only).
    public var classLabels: [String]

    /// A data set of `features` [rows, …] and `targets` with as many rows: for regression
    /// [rows, outputs] (or [rows]) of finite values; for classification [rows] of class indices,
    /// whole numbers in `0..<classLabels.count` (labels default to "0", "1", … up to the largest
    /// index). Throws, naming the row, on anything else: shapes that disagree, a feature that is
    /// not finite, a bad class index — a caller's mistake is an error here, never a trap later on
    /// a worker thread.
    public init(features: Tensor, targets: Tensor, featureNames: [String]? = nil, targetName: String = "target",
                task: LearningTask, classLabels: [String]? = nil) throws {
        let rows = features.shape.rank >= 1 ? features.shape[0] : 0
        guard features.shape.rank >= 2 else { throw ConfigurationError("features must be [rows, features…], got \(features.shape)") }
        guard (1...2).contains(targets.shape.rank), targets.shape[0] == rows else {
            throw ConfigurationError("targets of shape \(targets.shape) do not match \(rows) rows of features (targets are [rows] or [rows, outputs])")
        }
        let columns = features.shape.columns
        if let featureNames, featureNames.count != columns {
            throw ConfigurationError("\(featureNames.count) feature names for \(columns) features")
        }
        try features.withUnsafeBufferPointer { x in
            if let i = Kernels.firstIndex(in: x) {
                throw ConfigurationError("feature \(i % max(columns, 1)) of row \(i / max(columns, 1)) is \(x[i]), not a finite number")
            }
        }
        let width = targets.shape.rank == 1 ? 1 : targets.shape.columns
        try targets.withUnsafeBufferPointer { y in
            if task == .classification {
                guard targets.shape.rank == 1 || width == 1 else {
                    throw ConfigurationError("class targets are one index per row, got shape \(targets.shape)")
                }
                let limit = classLabels.map { Float($0.count) } ?? Float(1 << 24)
                if let i = y.firstIndex(where: { !($0 >= 0 && $0 < limit && $0 == $0.rounded()) }) {
                    throw ConfigurationError("row \(i) has class index \(y[i]); class indices are whole numbers in 0..<"
                                             + (classLabels.map { "\($0.count)" } ?? "2²⁴"))
                }
            } else if let i = Kernels.firstIndex(in: y) {
                throw ConfigurationError("row \(i / max(width, 1)) has target \(y[i]), not a finite number")
            }
        }
        self.init(checked: features, targets: targets, featureNames: featureNames, targetName: targetName, task: task,
                  classLabels: classLabels)
    }

    /// The stores of `init(features:targets:…)` without its checks, for data made right by
    /// construction (the built-in generators).
    init(checked features: Tensor, targets: Tensor, featureNames: [String]?, targetName: String, task: LearningTask,
         classLabels: [String]?) {
        self.features = features
        self.targets = targets
        self.featureNames = featureNames ?? (0..<features.shape.columns).map { "x\($0)" }
        self.targetName = targetName
        self.task = task
        if task == .classification {
            let classes = Int(targets.scalars.max() ?? 0) + 1
            self.classLabels = classLabels ?? (0..<classes).map(String.init)
        } else {
            self.classLabels = []
        }
    }

    /// Number of rows.
    public var count: Int { features.shape[0] }
    /// Numbers per sample (the product of a sample's dimensions: the columns of a table).
    public var featureCount: Int { features.shape.columns }
    /// The same rows with each sample reshaped to `sampleShape` ([1, 8, 8] for 64 pixel columns
    /// as one-channel 8 × 8 images; PyTorch's `x.view(-1, 1, 8, 8)`), its elements in the same
    /// order. Throws unless the shape holds exactly a sample's numbers (at most 3 dimensions).
    ///
    /// ```swift
    /// let images = try digits.reshapedSamples(to: [1, 8, 8])   // features [rows, 1, 8, 8]
    /// ```
    public func reshapedSamples(to sampleShape: [Int]) throws -> Dataset {
        guard (1...3).contains(sampleShape.count), sampleShape.allSatisfy({ $0 > 0 }),
              sampleShape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) == featureCount else {
            throw ConfigurationError("samples of \(featureCount) numbers cannot take the shape \(sampleShape)")
        }
        var reshaped = self
        reshaped.features = features.reshaped(Shape([count] + sampleShape))
        return reshaped
    }

    /// Outputs a model needs: the classes, or the regression targets per row.
    public var outputCount: Int { task == .classification ? classLabels.count : targets.shape.columns }
    /// Floats per target row (1 for class indices).
    public var targetWidth: Int { targets.shape.rank == 1 ? 1 : targets.shape.columns }

    /// Numeric class values as indices into their sorted distinct values, and those values as
    /// labels ("0", "1", … for integers).
    public static func encodeClasses(_ values: [Float]) -> (indices: Tensor, labels: [String]) {
        let sorted = Array(Set(values)).sorted()
        let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, Float($0)) })
        let labels = sorted.map { $0 == $0.rounded() && abs($0) < 1e9 ? String(Int($0)) : String($0) }
        return (Tensor(values.map { index[$0]! }), labels)
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        var d = self
        d.features = features.gatherRows(indices)
        d.targets = targets.gatherRows(indices)
        return d
    }

    /// Copies the feature and target rows at `indices` into caller-owned memory (the engine's
    /// per-step gather; allocates nothing).
    public func gather(_ indices: UnsafeBufferPointer<Int>, features out: UnsafeMutablePointer<Float>,
                       targets targetOut: UnsafeMutablePointer<Float>) {
        let f = featureCount, t = targetWidth
        features.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { y in
                let ahead = Kernels.prefetchDistance
                for i in 0..<min(ahead, indices.count) {
                    lockstep_prefetch(x.baseAddress! + indices[i] * f)
                    lockstep_prefetch(y.baseAddress! + indices[i] * t)
                }
                for (i, row) in indices.enumerated() {
                    if i + ahead < indices.count {
                        lockstep_prefetch(x.baseAddress! + indices[i + ahead] * f)
                        lockstep_prefetch(y.baseAddress! + indices[i + ahead] * t)
                    }
                    Kernels.copy(x.baseAddress! + row * f, out + i * f, f)
                    Kernels.copy(y.baseAddress! + row * t, targetOut + i * t, t)
                }
            }
        }
    }
}
