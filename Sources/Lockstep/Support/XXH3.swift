import CXXHash

/// XXH3-128 (xxHash 0.8, Debian's libxxhash-dev): the hash of data fingerprints, at memory speed
/// (a 222 MB CSV in tens of milliseconds; SHA-256 took 170 of the run's CPU time). It is not a
/// cryptographic hash: a fingerprint tells data apart from other data, it does not guard against
/// someone who forges a file. The tests check it against the reference implementation's vectors.
///
/// ```swift
/// var hash = XXH3()
/// hash.update(Array("abc".utf8))
/// hash.hexDigest()   // "06b05ab6…892f3950"
/// ```
public struct XXH3: ContentHash {
    /// The hashing state; copied before a change when a copy of the hash shares it.
    private final class State: @unchecked Sendable {
        let pointer: OpaquePointer
        init() {
            guard let p = lockstep_xxh3_new() else { preconditionFailure("out of memory for an XXH3 state") }
            pointer = p
        }
        init(copying other: State) {
            guard let p = lockstep_xxh3_copy(other.pointer) else { preconditionFailure("out of memory for an XXH3 state") }
            pointer = p
        }
        deinit { lockstep_xxh3_free(pointer) }
    }

    private var state = State()

    /// A hash of no bytes yet; feed it with `update` and read it with `hexDigest()`.
    public init() {}

    /// Hashes raw memory (a file's or a tensor's bytes), after what was given so far.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&state) { state = State(copying: state) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        precondition(lockstep_xxh3_update(state.pointer, base, buffer.count) == 0, "XXH3 could not hash")
    }

    /// The 128-bit digest as 32 lowercase hex characters (the hash itself can go on).
    public func hexDigest() -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        lockstep_xxh3_digest(state.pointer, &digest)
        return hex(digest)
    }
}

/// A hash that data is fed to piece by piece: SHA-256 or XXH3.
public protocol ContentHash: Sendable {
    init()
    /// Hashes raw memory, after what was given so far.
    mutating func update(_ buffer: UnsafeRawBufferPointer)
    /// The digest of what was given so far, in lowercase hex (the hash itself can go on).
    func hexDigest() -> String
}

extension ContentHash {
    /// Hashes `bytes`, after those given so far.
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// Hashes the UTF-8 bytes of `string`.
    public mutating func update(_ string: String) { update(Array(string.utf8)) }
}

/// Bytes as lowercase hex digits.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
}
