/// Reading data files by their format — the one place a path's extension picks the reader, for
/// training, evaluation and prediction alike.
extension Dataset {
    /// A data set from a CSV file or an `.npy` array (by the extension): for a CSV file the target
    /// is the column named `target` (the last by default); for an array, its last column.
    ///
    /// ```swift
    /// let data = try Dataset.read(at: "iris.csv")                  // target: the last column
    /// let houses = try Dataset.read(at: "houses.csv", target: "price", task: .regression)
    /// ```
    public static func read(at path: String, target: String? = nil, task: LearningTask? = nil) throws -> Dataset {
        guard isNPY(path) else { return try readCSV(at: path, target: target, task: task) }
        if let target {
            throw DataError(file: path, "an .npy array has no column names (its target is the last column); --target \(target) names a CSV column")
        }
        return try readNPY(at: path, task: task)
    }

    /// Whether `path` names an `.npy` array (any other file is read as CSV).
    public static func isNPY(_ path: String) -> Bool { path.hasSuffix(".npy") }

    /// Reads rows for a trained model from a CSV or `.npy` file: the features the model takes
    /// and, when `readTargets` and the file has it, the target (class labels looked up in
    /// `classLabels`). A CSV file is matched by column names; an `.npy` array by position: its
    /// columns are the features in order, then optionally the target.
    ///
    /// ```swift
    /// let (x, y) = try Dataset.readRows(at: "new.npy", featureNames: doc.featureNames, targetName: doc.targetName,
    ///                                   task: doc.task, classLabels: doc.classLabels)
    /// ```
    public static func readRows(at path: String, featureNames: [String], targetName: String, task: LearningTask,
                                classLabels: [String], readTargets: Bool = true) throws -> (features: Tensor, targets: Tensor?) {
        guard isNPY(path) else {
            return try readCSV(at: path, featureNames: featureNames, targetName: targetName, task: task,
                               classLabels: classLabels, readTargets: readTargets)
        }
        let table = try NPY.read(at: path)
        let rows = table.shape[0], columns = table.shape[1], k = featureNames.count
        guard columns == k || columns == k + 1 else {
            throw DataError(file: path, "\(columns) columns, but the model takes \(k) features (and optionally the target '\(targetName)' last)")
        }
        guard rows > 0 else { throw DataError(file: path, "no data rows") }
        let values = table.scalars
        if let bad = values.withUnsafeBufferPointer({ Kernels.firstIndex(in: $0) }) {
            throw DataError(file: path, "row \(bad / columns + 1), column \(bad % columns + 1): not a finite number")
        }
        var features = [Float]()
        features.reserveCapacity(rows * k)
        for r in 0..<rows { features.append(contentsOf: values[(r * columns)..<(r * columns + k)]) }
        let x = Tensor(features, shape: Shape(rows, k))
        guard readTargets, columns == k + 1 else { return (x, nil) }
        var targets = [Float]()
        targets.reserveCapacity(rows)
        for r in 0..<rows {
            let v = values[r * columns + k]
            guard task == .classification else { targets.append(v); continue }
            let label = v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
            guard let index = classLabels.firstIndex(of: label) else {
                throw DataError(file: path, "row \(r): \(label) is not one of the model's classes (\(classLabels.joined(separator: ", ")))")
            }
            targets.append(Float(index))
        }
        return (x, task == .classification ? Tensor(targets) : Tensor(targets, shape: Shape(rows, 1)))
    }
}

extension Dataset {
    /// The XXH3 (or `H`) of a data file's bytes so far (feed it more with `update`), read from a
    /// memory map in blocks that leave resident memory as they are hashed.
    ///
    /// ```swift
    /// var hash = try Dataset.fileHash(at: "iris.csv")
    /// hash.update("target=species")
    /// hash.hexDigest()
    /// ```
    public static func fileHash<H: ContentHash>(at path: String, using: H.Type = XXH3.self) throws -> H {
        try MappedFile(path: path).hash(H.self)
    }

    /// The same hash, refused when the regular file is not the one `stamp` describes (taken
    /// before the data was read) or changes while it is hashed: the hash must be of the bytes the
    /// data came from, or a checkpoint would vouch for data it was not trained on.
    public static func fileHash<H: ContentHash>(at path: String, unchangedSince stamp: FileStamp?, using: H.Type = XXH3.self) throws -> H {
        let file = try MappedFile(path: path)
        let changed = DataError(file: path, "changed while it was being read (replaced or written to); run again once it no longer changes")
        guard file.stamp == stamp else { throw changed }
        let hash = file.hash(H.self)
        guard stamp == nil || FileStamp(path: path) == stamp else { throw changed }
        return hash
    }
}
