/// A data set split into train, optional validation, and test parts.
public struct DataSplit: Sendable {
    /// The rows to train on.
    public var train: Dataset
    /// The rows that drive early stopping and model selection; nil without a validation fraction.
    public var validation: Dataset?
    /// The held-out rows, for the final report only.
    public var test: Dataset
}

extension Dataset {
    /// A seeded random split (scikit-learn's `train_test_split` with `shuffle=True`): the test
    /// part gets ⌈count·testFraction⌉ rows, the validation part ⌈count·validationFraction⌉, the
    /// train part the rest, each in shuffled order.
    ///
    /// ```swift
    /// let split = try iris.split(testFraction: 0.2, seed: 0)   // train 120, test 30
    /// ```
    public func split(testFraction: Double, validationFraction: Double = 0, seed: UInt64) throws -> DataSplit {
        guard (0..<1).contains(testFraction), (0..<1).contains(validationFraction), testFraction + validationFraction < 1 else {
            throw DataError(file: "split", "test fraction \(testFraction) and validation fraction \(validationFraction) must each be in [0, 1) and leave rows to train on")
        }
        let testCount = Int((Double(count) * testFraction).rounded(.up))
        let validationCount = Int((Double(count) * validationFraction).rounded(.up))
        let trainCount = count - testCount - validationCount
        guard trainCount > 0, testCount > 0 else {
            throw DataError(file: "split", "\(count) rows are too few for a test fraction of \(testFraction)")
        }
        // Shuffled as 32-bit indices where they fit (the same permutation in half the memory).
        var rng = RandomGenerator(seed: seed)
        let order: [Int]
        if count <= Int(UInt32.max) {
            var narrow = (0..<UInt32(count)).map { $0 }
            narrow.withUnsafeMutableBufferPointer { rng.shuffle($0) }
            order = narrow.map { Int($0) }
        } else {
            var wide = Array(0..<count)
            rng.shuffle(&wide)
            order = wide
        }
        let test = Array(order[0..<testCount])
        let validation = Array(order[testCount..<(testCount + validationCount)])
        let train = Array(order[(testCount + validationCount)...])
        return DataSplit(train: subset(train), validation: validationCount > 0 ? subset(validation) : nil, test: subset(test))
    }
}
