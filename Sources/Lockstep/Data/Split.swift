import CThreading

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
    /// Data the caller no longer holds (its last use is this call) is split in place: its rows
    /// are shuffled where they are and the train part keeps their memory, so that a large data
    /// set is not copied into fresh pages. The parts are the same either way.
    ///
    /// ```swift
    /// let split = try iris.split(testFraction: 0.2, seed: 0)   // train 120, test 30
    /// ```
    public consuming func split(testFraction: Double, validationFraction: Double = 0, seed: UInt64) throws -> DataSplit {
        guard (0..<1).contains(testFraction), (0..<1).contains(validationFraction), testFraction + validationFraction < 1 else {
            throw DataError(file: "split", "test fraction \(testFraction) and validation fraction \(validationFraction) must each be in [0, 1) and leave rows to train on")
        }
        let testCount = Int((Double(count) * testFraction).rounded(.up))
        let validationCount = Int((Double(count) * validationFraction).rounded(.up))
        let trainCount = count - testCount - validationCount
        guard trainCount > 0, testCount > 0 else {
            throw DataError(file: "split", "\(count) rows are too few for a test fraction of \(testFraction)")
        }
        var rng = RandomGenerator(seed: seed)
        if isKnownUniquelyReferenced(&features.storage) && isKnownUniquelyReferenced(&targets.storage) {
            return splitInPlace(test: testCount, validation: validationCount, rng: &rng)
        }
        // Shuffled as 32-bit indices where they fit (the same permutation in half the memory).
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

    /// The split of data held by no one else: the shuffle's swaps applied to the rows themselves
    /// (row k then holds what `order[k]` of the indices' shuffle names), the test and validation
    /// rows — the first ones — copied out, and the train rows moved to the front of the same memory.
    private mutating func splitInPlace(test testCount: Int, validation validationCount: Int, rng: inout RandomGenerator) -> DataSplit {
        let n = count, f = features.count / n, w = targets.count / n
        let x = features.storage.base, y = targets.storage.base
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(f, w, 1)) { row in
            func swapRows(_ base: UnsafeMutablePointer<Float>, _ width: Int, _ i: Int, _ j: Int) {
                Kernels.copy(base + i * width, row.baseAddress!, width)
                Kernels.copy(base + j * width, base + i * width, width)
                Kernels.copy(row.baseAddress!, base + j * width, width)
            }
            rng.forEachShuffleSwap(count: n, upcoming: { j in lockstep_prefetch(x + j * f); lockstep_prefetch(y + j * w) }) { i, j in
                guard i != j else { return }
                swapRows(x, f, i, j)
                swapRows(y, w, i, j)
            }
        }
        func part(_ rows: Range<Int>) -> Dataset {
            var d = self
            d.features = Tensor(shape: features.shape.withRows(rows.count)) { Kernels.copy(x + rows.lowerBound * f, $0.baseAddress!, rows.count * f) }
            d.targets = Tensor(shape: targets.shape.rank >= 2 ? targets.shape.withRows(rows.count) : Shape(rows.count)) {
                Kernels.copy(y + rows.lowerBound * w, $0.baseAddress!, rows.count * w)
            }
            return d
        }
        let test = part(0..<testCount)
        let validation = validationCount > 0 ? part(testCount..<(testCount + validationCount)) : nil
        let first = testCount + validationCount, trainCount = n - first
        Kernels.copy(x + first * f, x, trainCount * f)
        Kernels.copy(y + first * w, y, trainCount * w)
        features.keepFirstRows(trainCount)
        targets.keepFirstRows(trainCount)
        return DataSplit(train: self, validation: validation, test: test)
    }
}
