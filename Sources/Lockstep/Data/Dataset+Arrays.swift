/// Data sets from Swift arrays, for data that lives in memory: rows of features, and labels or
/// target values, checked as they enter.
extension Dataset {
    /// A classification set: `labels` are the classes as the caller names them (Ints, Strings, …);
    /// their sorted distinct values become the class labels and each row's target is its label's
    /// index, so labels 1, 2, 3 are three classes — not four with an empty class 0.
    ///
    /// ```swift
    /// let data = try Dataset(features: [[5.1, 3.5], [6.2, 2.9], [5.9, 3.0]], labels: ["setosa", "virginica", "versicolor"])
    /// data.classLabels     // ["setosa", "versicolor", "virginica"]
    /// ```
    public init<Label: Hashable & Comparable & CustomStringConvertible>(
        features: [[Float]], labels: [Label], featureNames: [String]? = nil, targetName: String = "label") throws {
        guard labels.count == features.count else {
            throw ConfigurationError("\(labels.count) labels for \(features.count) rows of features")
        }
        let classes = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Float($0)) })
        try self.init(features: try Tensor(rows: features), targets: Tensor(labels.map { index[$0]! }), featureNames: featureNames,
                      targetName: targetName, task: .classification, classLabels: classes.map(\.description))
    }

    /// A regression set with one target value per row.
    ///
    /// ```swift
    /// let data = try Dataset(features: [[1], [2], [3]], targets: [1.9, 4.1, 6.0])
    /// ```
    public init(features: [[Float]], targets: [Float], featureNames: [String]? = nil, targetName: String = "target") throws {
        guard targets.count == features.count else {
            throw ConfigurationError("\(targets.count) targets for \(features.count) rows of features")
        }
        try self.init(features: try Tensor(rows: features), targets: Tensor(targets, shape: Shape(targets.count, 1)),
                      featureNames: featureNames, targetName: targetName, task: .regression)
    }

    /// A regression set with several target values per row (one output each).
    public init(features: [[Float]], targets: [[Float]], featureNames: [String]? = nil, targetName: String = "target") throws {
        guard targets.count == features.count else {
            throw ConfigurationError("\(targets.count) target rows for \(features.count) rows of features")
        }
        try self.init(features: try Tensor(rows: features), targets: try Tensor(rows: targets),
                      featureNames: featureNames, targetName: targetName, task: .regression)
    }
}
