#if canImport(Glibc)
import Glibc
#endif

/// An owned, 64-byte aligned, zero-initialized block of Floats.
///
/// Parameters, gradients and arenas live in these, so that SIMD loads and BLAS never straddle
/// cache lines and a replica's memory sits on its worker's NUMA node: allocated on the worker's
/// thread (the zeroing is the first touch), or explicitly on `numaNode` through libnuma.
public final class AlignedBuffer: @unchecked Sendable {
    /// Alignment of every buffer, in bytes: one cache line.
    public static let alignment = 64

    /// Number of Floats.
    public let count: Int
    /// The first Float, 64-byte aligned; valid while the buffer lives.
    public let base: UnsafeMutablePointer<Float>
    private let numaBytes: Int?

    /// Allocates `count` Floats, zeroed; on NUMA node `numaNode` when one is given and libnuma
    /// is available.
    public convenience init(count: Int, numaNode: Int? = nil) {
        self.init(uninitializedCount: count, numaNode: numaNode)
        UnsafeMutableRawPointer(base).initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * MemoryLayout<Float>.stride)
    }

    /// `count` Floats left as the system gives them (on `numaNode` when given): pages never
    /// written stay out of the process's memory (an arena's chunk, mostly unused by a small model).
    init(uninitializedCount count: Int, numaNode: Int?) {
        precondition(count >= 0)
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        var raw: UnsafeMutableRawPointer?
        if let numaNode { raw = NUMA.allocate(bytes, onNode: numaNode) }  // page-aligned
        if raw != nil {
            numaBytes = bytes
        } else {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: bytes >= Self.hugeBytes ? Self.hugePage : Self.alignment)
            numaBytes = nil
        }
        if bytes >= Self.hugeBytes { Self.adviseHugePages(raw!, bytes) }
        base = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Buffers this large are asked to be backed by 2 MiB pages: a data set's rows are gathered
    /// in random order every step, and with 4 KiB pages a 64 MB training split spans 16 000 pages,
    /// far more than the TLB holds (the per-step gather took about 100 ns a row).
    static let hugeBytes = 8 << 20
    static let hugePage = 2 << 20

    /// Asks for transparent huge pages over the whole 2 MiB pages of the block (a hint: Linux's
    /// default "madvise" mode honours it; elsewhere, or when refused, nothing changes).
    private static func adviseHugePages(_ start: UnsafeMutableRawPointer, _ bytes: Int) {
        #if os(Linux)
        let first = (Int(bitPattern: start) + hugePage - 1) / hugePage * hugePage
        let last = (Int(bitPattern: start) + bytes) / hugePage * hugePage
        if last > first { _ = madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, MADV_HUGEPAGE) }
        #endif
    }

    /// Allocates `count` Floats left unwritten, for a caller that writes every one before
    /// reading any (a gather, a copy): a data set's buffer is not zeroed only to be overwritten.
    convenience init(uninitializedCount count: Int) {
        self.init(uninitializedCount: count, numaNode: nil)
    }

    deinit {
        if let numaBytes { NUMA.free(UnsafeMutableRawPointer(base), bytes: numaBytes) } else { UnsafeMutableRawPointer(base).deallocate() }
    }

    /// The `count` Floats as a buffer pointer (no copy).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
}
