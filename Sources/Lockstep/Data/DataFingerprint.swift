/// Identifies training data: a SHA-256 and the settings that carved it (file, split), so that a
/// resume on other data is refused.
public struct DataFingerprint: Codable, Sendable, Equatable {
    /// The SHA-256 of the data's contents, as 64 lowercase hex digits.
    public var sha256: String
    /// How the data was made, e.g. "iris.csv · test 0.2 · validation 0.1 · split seed 0".
    public var description: String

    /// A fingerprint from a hash computed elsewhere (a file's) and a description of it.
    public init(sha256: String, description: String) {
        self.sha256 = sha256
        self.description = description
    }

    /// The fingerprint of a data set's contents: its features, targets, names and labels.
    public init(of dataset: Dataset, description: String = "in-memory data set") {
        var hash = SHA256()
        dataset.features.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        dataset.targets.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        hash.update((dataset.featureNames + [dataset.targetName] + dataset.classLabels).joined(separator: "\u{1f}"))
        self.init(sha256: hash.hexDigest(), description: description)
    }
}
