import Foundation

/// Windows over a sequence of byte tokens, for a language model: sample r is the `context` bytes
/// at its offset, its targets the `context` bytes one further on (each position predicts the
/// next byte). Offsets are drawn at seeded random (`.random`), or every `stride` bytes
/// (`.strided`); either way the same row is always the same window, so the sharder shards,
/// shuffles and checkpoints these like any data set.
///
/// Shape: samples [context] (byte values as Floats, for an `Embedding`), targets [context]
/// (class indices 0..<256).
///
/// ```swift
/// let text = try TokenWindows.readBytes(at: "corpus.txt")
/// let train = try TokenWindows(text, context: 64, offsets: .random(count: 300 * 32, seed: 0))
/// let validation = try TokenWindows(text, context: 64, offsets: .strided(64))   // non-overlapping
/// ```
public struct TokenWindows: DataSource {
    /// Where windows start.
    public enum Offsets: Sendable, Equatable {
        /// `count` windows, each at an offset drawn from (seed, row).
        case random(count: Int, seed: UInt64)
        /// A window every `stride` bytes from the start, as many as fit whole.
        case strided(Int)
    }

    /// The tokens, one byte each.
    public let tokens: [UInt8]
    /// Positions per window.
    public let context: Int
    /// How the windows are placed.
    public let offsets: Offsets
    public let count: Int

    /// Windows of `context` positions over `tokens`; refuses sizes that leave no whole window
    /// (a window needs `context + 1` bytes: the last target is the byte after it).
    public init(_ tokens: [UInt8], context: Int, offsets: Offsets) throws {
        guard context > 0 else { throw ConfigurationError("a window needs a positive context, got \(context)") }
        guard tokens.count > context else {
            throw ConfigurationError("\(tokens.count) bytes hold no window of \(context) + 1 bytes")
        }
        switch offsets {
        case let .random(count, _):
            guard count >= 0 else { throw ConfigurationError("a negative number of windows: \(count)") }
            self.count = count
        case let .strided(stride):
            guard stride > 0 else { throw ConfigurationError("windows need a positive stride, got \(stride)") }
            count = (tokens.count - context - 1) / stride + 1
        }
        self.tokens = tokens
        self.context = context
        self.offsets = offsets
    }

    /// The first byte of row `row`'s window.
    public func offset(of row: Int) -> Int {
        switch offsets {
        case let .random(_, seed):
            var generator = RandomGenerator(seed: seed, UInt64(row))
            return Int(generator.next() % UInt64(tokens.count - context))
        case let .strided(stride):
            return row * stride
        }
    }

    public var sampleShape: Shape { Shape(context) }
    public var targetShape: Shape { Shape(context) }
    public var task: LearningTask { .classification }
    public var classCount: Int { 256 }

    public func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>,
                       targets: UnsafeMutablePointer<Float>) {
        tokens.withUnsafeBufferPointer { bytes in
            for (i, row) in rows.enumerated() {
                let start = offset(of: row), out = i * context
                for t in 0..<context {
                    features[out + t] = Float(bytes[start + t])
                    targets[out + t] = Float(bytes[start + t + 1])
                }
            }
        }
    }

    public func fingerprint() -> DataFingerprint {
        var hash = XXH3()
        hash.update(tokens)
        let placement: String
        switch offsets {
        case let .random(count, seed): placement = "\(count) random offsets, seed \(seed)"
        case let .strided(stride): placement = "every \(stride) bytes"
        }
        return DataFingerprint(digest: hash.hexDigest(), description: "\(tokens.count) bytes · windows of \(context) · \(placement)")
    }

    /// The bytes of the file at `path`, with a one-line error naming it when it cannot be read.
    public static func readBytes(at path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        if let missing = MissingFile.reason(path) { throw DataError(file: path, missing) }
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard !isDirectory.boolValue else { throw DataError(file: path, "a directory, not a file of text") }
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(file: path, "cannot be read") }
        return [UInt8](data)
    }
}
