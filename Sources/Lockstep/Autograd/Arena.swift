/// A bump allocator for the activations and gradients of one training step.
///
/// `allocate` hands out 64-byte aligned, zeroed Float blocks; `reset` makes all of them free
/// again without returning memory to the system. A step allocates the same sequence of blocks as
/// the step before it, so after the first step the arena never grows: the steady state of
/// training makes no heap allocation.
public final class Arena {
    // One tape's, on one thread: no dynamic exclusivity checks on the bump pointer (see Tape).
    @exclusivity(unchecked) private var chunks: [AlignedBuffer] = []
    @exclusivity(unchecked) private var chunkIndex = 0
    @exclusivity(unchecked) private var offset = 0
    /// The chunk `chunkIndex` names, as base and size (reading the chunk itself retained it).
    @exclusivity(unchecked) private var base: UnsafeMutablePointer<Float>?
    @exclusivity(unchecked) private var capacity = 0
    /// Floats per chunk when a new chunk is needed (a larger request gets a chunk of its own size).
    public let chunkSize: Int

    /// The NUMA node chunks are allocated on, if any.
    public let numaNode: Int?

    /// An empty arena; chunks of `chunkSize` Floats (1 MiB by default) are allocated on first use,
    /// on `numaNode` when given.
    public init(chunkSize: Int = 1 << 18, numaNode: Int? = nil) {
        self.chunkSize = chunkSize
        self.numaNode = numaNode
        chunks.reserveCapacity(16)
    }

    /// A zeroed block of `count` Floats, valid until the next `reset`.
    public func allocate(_ count: Int, zeroed: Bool = true) -> UnsafeMutablePointer<Float> {
        let rounded = (count + 15) & ~15  // keep every block on a 64-byte boundary
        if let base, offset + rounded <= capacity {
            let p = base + offset
            offset += rounded
            if zeroed { p.update(repeating: 0, count: count) }
            return p
        }
        while chunkIndex + 1 < chunks.count {
            chunkIndex += 1
            offset = 0
            base = chunks[chunkIndex].base
            capacity = chunks[chunkIndex].count
            if rounded <= capacity {
                offset = rounded
                if zeroed { base!.update(repeating: 0, count: count) }
                return base!
            }
        }
        // Not cleared as a whole: a small model touches a few pages of a chunk, and only those
        // then count in the process's memory (nine cleared chunks were a fifth of the digits run's).
        let chunk = AlignedBuffer(uninitializedCount: max(rounded, chunkSize), numaNode: numaNode)
        chunks.append(chunk)
        chunkIndex = chunks.count - 1
        base = chunk.base
        capacity = chunk.count
        offset = rounded
        if zeroed { chunk.base.update(repeating: 0, count: count) }
        return chunk.base
    }

    /// Frees every block at once; memory is kept for the next step.
    public func reset() {
        chunkIndex = 0
        offset = 0
        base = chunks.first?.base
        capacity = chunks.first?.count ?? 0
    }
}
