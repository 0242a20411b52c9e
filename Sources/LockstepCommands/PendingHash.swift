import Foundation
import Lockstep

/// A data file's XXH3, computed on a thread of its own while the run splits and standardizes
/// what it read (SHA-256's pass over a 222 MB CSV took 0.15 s of the critical path, issue 13;
/// XXH3's takes a few hundredths, still worth taking off it). The run asks for it (`value()`)
/// when it builds the fingerprint its checkpoints carry, before it writes anything.
final class PendingHash: @unchecked Sendable {
    private let condition = NSCondition()
    /// Written once, under `condition`.
    private var result: Result<String, Error>?

    /// Starts hashing the bytes of `file`, then `suffix`, on a new thread; the file must still be
    /// the one `stamp` describes (taken before the data was read).
    init(file: String, suffix: String, stamp: FileStamp?) {
        Thread.detachNewThread { [self] in
            let digest = Result { () throws -> String in
                var hash = try Dataset.fileHash(at: file, unchangedSince: stamp)
                hash.update(suffix)
                return hash.hexDigest()
            }
            condition.lock()
            result = digest
            condition.broadcast()
            condition.unlock()
        }
    }

    /// A digest known already (a built-in data set's).
    init(value: String) { result = .success(value) }

    /// A digest computed by the first `value()` that asks for it, and only then (a pass over the
    /// file that most runs never need: the SHA-256 of a checkpoint written before XXH3).
    init(later compute: @escaping @Sendable () throws -> String) { self.compute = compute }

    /// Set for a digest computed when first asked for.
    private var compute: (@Sendable () throws -> String)?

    /// The hex digest, once the thread has it; an error from reading the file is thrown here.
    func value() throws -> String {
        condition.lock()
        defer { condition.unlock() }
        if result == nil, let compute {
            result = Result { try compute() }
            self.compute = nil
        }
        while result == nil { condition.wait() }
        return try result!.get()
    }
}
