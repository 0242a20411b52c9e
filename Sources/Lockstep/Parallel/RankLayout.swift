/// Where each rank's entry sits in a thread group's per-rank arrays (collective tags, buffer
/// pointers): each thread's ranks side by side, on cache lines no other thread writes.
///
/// With one line for every rank, the ranks of two threads wrote it in turn at every collective,
/// and it moved between their cores at each write, before the reads after the barrier that
/// must move it once (8 workers on 2 CPUs: the tag check was the largest item of a collective).
struct RankLayout {
    /// The entry of each rank, by rank.
    let index: UnsafeMutablePointer<Int>
    /// Entries in one set: the threads' blocks, each rounded up to whole lines.
    let perSet: Int

    /// The layout of `blocks` (each thread's ranks, consecutive, covering 0..<ranks).
    init(blocks: [Range<Int>], ranks: Int) {
        let perLine = 64 / MemoryLayout<Int>.stride
        index = .allocate(capacity: ranks)
        var lines = 0
        for block in blocks {
            for (k, rank) in block.enumerated() { index[rank] = lines * perLine + k }
            lines += (block.count + perLine - 1) / perLine
        }
        perSet = lines * perLine
    }

    /// `sets` sets of entries of this layout, zeroed, starting on a cache line.
    func allocate<T>(sets: Int, of _: T.Type) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.stride == MemoryLayout<Int>.stride, "a per-rank entry is one word")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: sets * perSet * MemoryLayout<Int>.stride, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: sets * perSet * MemoryLayout<Int>.stride)
        return raw.assumingMemoryBound(to: T.self)
    }
}

/// One set of per-rank buffer pointers of a thread group, by rank (see `RankLayout`).
struct BufferSlots {
    let base: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let layout: UnsafeMutablePointer<Int>

    subscript(rank: Int) -> UnsafeMutablePointer<Float>? {
        @inline(__always) get { base[layout[rank]] }
        @inline(__always) nonmutating set { base[layout[rank]] = newValue }
    }
}
