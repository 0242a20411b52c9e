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

    /// A data set of `features` [rows, features] and `targets` with as many rows; class labels
    /// default to "0", "1", … up to the largest index.
    public init(features: Tensor, targets: Tensor, featureNames: [String]? = nil, targetName: String = "target",
                task: LearningTask, classLabels: [String]? = nil) {
        precondition(features.shape.rank == 2, "features must be [rows, features], got \(features.shape)")
        precondition(targets.shape.rank >= 1 && targets.shape[0] == features.shape[0],
                     "targets \(targets.shape) do not match \(features.shape[0]) rows")
        self.features = features
        self.targets = targets
        self.featureNames = featureNames ?? (0..<features.shape[1]).map { "x\($0)" }
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
    /// The shape of a batch of `n` samples: `[n, features]` for a table, `[n, C, H, W]` for images.
    public func batchShape(rows n: Int) -> Shape { features.shape.withRows(n) }
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
                for (i, row) in indices.enumerated() {
                    Kernels.copy(x.baseAddress! + row * f, out + i * f, f)
                    Kernels.copy(y.baseAddress! + row * t, targetOut + i * t, t)
                }
            }
        }
    }
}
