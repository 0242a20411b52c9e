#if canImport(CNUMA)
import CNUMA
#endif

/// The one seam to libnuma: where it is missing (a platform without it, such as macOS, where the
/// package builds without the CNUMA target), the machine is one node and memory comes from the
/// ordinary allocator.
enum NUMA {
    /// Whether the kernel and libnuma report NUMA nodes.
    static var isAvailable: Bool {
        #if canImport(CNUMA)
        return numa_available() >= 0
        #else
        return false
        #endif
    }

    /// The node of `cpu` (0 where unknown).
    static func node(ofCPU cpu: Int) -> Int {
        #if canImport(CNUMA)
        return max(Int(numa_node_of_cpu(Int32(cpu))), 0)
        #else
        return 0
        #endif
    }

    /// `bytes` of page-aligned memory on `node`, or nil (then allocate it elsewhere).
    static func allocate(_ bytes: Int, onNode node: Int) -> UnsafeMutableRawPointer? {
        #if canImport(CNUMA)
        guard isAvailable else { return nil }
        return numa_alloc_onnode(bytes, Int32(node))
        #else
        return nil
        #endif
    }

    /// Frees what `allocate` returned.
    static func free(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        #if canImport(CNUMA)
        numa_free(pointer, bytes)
        #endif
    }
}
