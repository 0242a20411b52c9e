import CCrypto

/// SHA-256 (FIPS 180-4), computed by OpenSSL's libcrypto with the CPU's SHA instructions where
/// it has them: the hash of data fingerprints in checkpoints written before XXH3 took its place
/// (a run that resumes one hashes its data this way once). The tests check it against the
/// standard's vectors.
///
/// ```swift
/// var hash = SHA256()
/// hash.update(Array("abc".utf8))
/// hash.hexDigest()   // "ba7816bf…f20015ad"
/// ```
public struct SHA256: ContentHash {
    /// libcrypto's hashing state; copied before a change when a copy of the hash shares it.
    private final class Context: @unchecked Sendable {
        let state: OpaquePointer
        init() {
            guard let state = EVP_MD_CTX_new(), EVP_DigestInit_ex(state, EVP_sha256(), nil) == 1 else {
                preconditionFailure("libcrypto could not start a SHA-256")
            }
            self.state = state
        }
        init(copying other: Context) {
            guard let state = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(state, other.state) == 1 else {
                preconditionFailure("libcrypto could not copy a SHA-256")
            }
            self.state = state
        }
        deinit { EVP_MD_CTX_free(state) }
    }

    private var context = Context()

    /// A hash of no bytes yet; feed it with `update` and read it with `hexDigest()`.
    public init() {}

    /// Hashes raw memory (a file's or a tensor's bytes).
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        precondition(EVP_DigestUpdate(context.state, base, buffer.count) == 1, "libcrypto could not hash")
    }

    /// The digest as 64 lowercase hex characters (the hash itself can go on).
    public func hexDigest() -> String {
        let final = Context(copying: context)
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(final.state, &digest, &length) == 1 && length == 32, "libcrypto could not finish a SHA-256")
        return hex(digest)
    }
}
