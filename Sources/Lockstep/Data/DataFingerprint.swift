/// Identifies training data: a hash of its contents and the settings that carved it (file,
/// split), so that a resume on other data is refused.
///
/// Fingerprints are XXH3-128; checkpoints written before held a SHA-256 (the JSON key says
/// which), and a run resuming one fingerprints its data that way once to compare
/// (`FitOptions.legacyDataFingerprint`).
///
/// ```swift
/// let print = DataFingerprint(of: data, description: "iris.csv · test 0.2")
/// print.hash     // .xxh3
/// print.digest   // 32 hex digits
/// ```
public struct DataFingerprint: Codable, Sendable, Equatable {
    /// The hash a fingerprint holds.
    public enum Hash: String, Codable, Sendable {
        /// XXH3-128, 32 hex digits: every fingerprint Lockstep makes.
        case xxh3
        /// SHA-256, 64 hex digits: the fingerprints of checkpoints written before XXH3.
        case sha256
    }

    /// Which hash `digest` is.
    public var hash: Hash
    /// The hash of the data's contents, in lowercase hex.
    public var digest: String
    /// How the data was made, e.g. "iris.csv · test 0.2 · validation 0.1 · split seed 0".
    public var description: String

    /// A fingerprint from a hash computed elsewhere (a file's) and a description of it.
    public init(hash: Hash = .xxh3, digest: String, description: String) {
        self.hash = hash
        self.digest = digest
        self.description = description
    }

    /// The fingerprint of a data set's contents (its features, targets, names and labels) by
    /// `hash`.
    public init(of dataset: Dataset, description: String = "in-memory data set", hash: Hash = .xxh3) {
        switch hash {
        case .xxh3: self.init(of: dataset, description: description, using: XXH3.self, named: hash)
        case .sha256: self.init(of: dataset, description: description, using: SHA256.self, named: hash)
        }
    }

    private init<H: ContentHash>(of dataset: Dataset, description: String, using: H.Type, named name: Hash) {
        var hash = H()
        dataset.features.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        dataset.targets.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        hash.update((dataset.featureNames + [dataset.targetName] + dataset.classLabels).joined(separator: "\u{1f}"))
        self.init(hash: name, digest: hash.hexDigest(), description: description)
    }

    /// "xxh3 0123456789ab…": the hash and the start of its digest, for messages.
    public var summary: String { "\(hash.rawValue) \(digest.prefix(12))…" }

    // The digest is stored under its hash's name ("xxh3": …, or "sha256": … as before).
    private enum CodingKeys: String, CodingKey { case xxh3, sha256, description }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        description = try c.decode(String.self, forKey: .description)
        if let digest = try c.decodeIfPresent(String.self, forKey: .xxh3) {
            (hash, self.digest) = (.xxh3, digest)
        } else {
            (hash, digest) = (.sha256, try c.decode(String.self, forKey: .sha256))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(digest, forKey: hash == .xxh3 ? .xxh3 : .sha256)
        try c.encode(description, forKey: .description)
    }
}
