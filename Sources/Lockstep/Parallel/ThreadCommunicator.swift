/// One rank's view of a `ThreadGroup`: collectives in shared memory, summing in the fixed
/// pairwise tree over ranks, in cache-sized blocks.
public final class ThreadCommunicator: Communicator {
    /// This thread's rank in its group.
    public let rank: Int
    /// The group's size.
    public var worldSize: Int { group.size }
    let group: ThreadGroup
    private static let block = 1024
    /// Per-level block sums of the tree (depth ≤ log2(size) + 1).
    private let scratch: AlignedBuffer

    init(group: ThreadGroup, rank: Int) {
        self.group = group
        self.rank = rank
        var depth = 1
        while (1 << (depth - 1)) < group.size { depth += 1 }
        scratch = AlignedBuffer(count: (depth + 1) * Self.block)
    }

    /// The collectives, as `meet` tells them apart.
    enum Kind: Int { case reduceScatter = 1, allGather, allGatherWord, gather, scatter, allReduce, barrier }

    /// The first barrier of every collective, and the check that every rank is in the same one:
    /// the same kind, root and element count. A mismatch breaks the group for every rank.
    /// `forThread` runs on the last of each thread's ranks to arrive, before the threads meet,
    /// when all of that thread's ranks called this collective.
    func meet(_ kind: Kind, count: Int, root: Int = 0, forThread: () -> Void = {}) throws {
        let tag = kind.rawValue << 56 | (root & 0xFFFF) << 40 | (count & 0xFF_FFFF_FFFF)
        let set = group.tags + group.alternate(.tag, rank) * group.layout.perSet, index = group.layout.index
        set[index[rank]] = tag
        group.entered(tag, rank: rank)
        try group.wait(rank: rank) {
            if group.ranks(ofThread: group.thread(ofRank: rank)).allSatisfy({ set[index[$0]] == tag }) { forThread() }
        }
        if let other = (0..<group.size).first(where: { set[index[$0]] != tag }) {
            let first = group.firstRank
            let reason = "collectives out of step: rank \(first + rank) called \(Self.describe(tag: tag)), rank \(first + other) \(Self.describe(tag: set[index[other]]))"
            group.abort(reason)
            throw WorkerAborted(reason: reason)
        }
    }

    /// A collective's tag in words: "allReduce of 2 elements", "gather of 9 elements to rank 3", "barrier".
    static func describe(tag t: Int) -> String {
        guard let kind = Kind(rawValue: t >> 56) else { return "nothing" }
        let count = t & 0xFF_FFFF_FFFF, root = (t >> 40) & 0xFFFF
        switch kind {
        case .barrier: return "barrier"
        case .gather: return "gather of \(count) elements to rank \(root)"
        case .scatter: return "scatter of \(count) elements from rank \(root)"
        default: return "\(kind) of \(count) elements"
        }
    }

    /// Breaks the group and throws: a caller's mistake on one rank stops every rank.
    private func fail(_ reason: String) -> WorkerAborted {
        group.abort("rank \(rank): \(reason)")
        return WorkerAborted(reason: "rank \(rank): \(reason)")
    }

    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try reduceScatter(buffer) { block, sum in
            Kernels.copy(sum, buffer.baseAddress! + block.lowerBound, block.count)
        }
    }

    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>,
                              consume: (Range<Int>, UnsafePointer<Float>) throws -> Void) throws {
        let mine = shard(of: buffer.count, rank: rank)
        guard group.size > 1 else {
            if !mine.isEmpty { try consume(mine, buffer.baseAddress! + mine.lowerBound) }
            return
        }
        let set = group.alternate(.reduce, rank)
        let slots = group.reduceSlots(set: set)
        slots[rank] = buffer.baseAddress
        if group.sumsByThread && buffer.count <= ThreadGroup.partialFloats {
            // Each thread's last rank to arrive sums the thread's ranks; the owner sums the threads.
            let partials = group.partials(set: set), count = buffer.count
            try meet(.reduceScatter, count: count) {
                let thread = group.thread(ofRank: rank), ranks = group.ranks(ofThread: thread)
                if count > 0 { sumBlock(slots, ranks.lowerBound, ranks.upperBound, offset: 0, count: count, into: partials[thread]!, level: 1) }
            }
            if !mine.isEmpty {
                sumBlock(partials, 0, group.threads, offset: mine.lowerBound, count: mine.count, into: scratch.base, level: 1)
                try consume(mine, scratch.base)
            }
            return
        }
        try meet(.reduceScatter, count: buffer.count)
        var start = mine.lowerBound
        while start < mine.upperBound {
            let n = min(Self.block, mine.upperBound - start)
            sumBlock(slots, 0, group.size, offset: start, count: n, into: scratch.base, level: 1)
            try consume(start..<(start + n), scratch.base)
            start += n
        }
    }

    /// dst[0..<count] = Σ over the group's ranks of slot_r[offset..<offset+count], in tree order:
    /// the in-process part of a reduction that continues across processes.
    func sum(_ slots: BufferSlots, offset: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        var done = 0
        while done < count {
            let n = min(Self.block, count - done)
            sumBlock(slots, 0, group.size, offset: offset + done, count: n, into: dst + done, level: 1)
            done += n
        }
    }

    /// dst[0..<count] = Σ_{r in lo..<hi} slot_r[offset..<offset+count], in tree order.
    private func sumBlock(_ slots: BufferSlots, _ lo: Int, _ hi: Int, offset: Int, count: Int,
                          into dst: UnsafeMutablePointer<Float>, level: Int) {
        switch hi - lo {
        case 1:
            Kernels.copy(slots[lo]! + offset, dst, count)
        case 2:
            let a = slots[lo]! + offset, b = slots[lo + 1]! + offset
            for i in 0..<count { dst[i] = a[i] + b[i] }
        default:
            let mid = ReductionTree.split(lo, hi)
            let right = scratch.base + level * Self.block
            sumBlock(slots, lo, mid, offset: offset, count: count, into: dst, level: level + 1)
            sumBlock(slots, mid, hi, offset: offset, count: count, into: right, level: level + 1)
            for i in 0..<count { dst[i] += right[i] }
        }
    }

    /// Ranks may pass the same buffer (replicas sharing their parameters): its shards are then
    /// already in place, and the copies from other buffers into it are split among its sharers.
    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard group.size > 1 else { return }
        let slots = group.nextGatherSlots(rank)
        slots[rank] = buffer.baseAddress!
        try meet(.allGather, count: buffer.count)
        try copyOthersShards(buffer, slots)
    }

    /// Rank 0 writes its word into this call's slot before the barrier and every rank reads it
    /// after; the alternation keeps a fast rank 0's next word from overwriting one not yet read.
    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, broadcasting word: Int) throws -> Int {
        guard group.size > 1 else { return word }
        let slot = group.words + group.alternate(.word, rank)
        if rank == 0 { slot.pointee = word }
        let slots = group.nextGatherSlots(rank)
        slots[rank] = buffer.baseAddress!
        try meet(.allGatherWord, count: buffer.count)
        let decided = slot.pointee
        try copyOthersShards(buffer, slots)
        return decided
    }

    /// The copying half of an all-gather, after the barrier that published every rank's buffer.
    private func copyOthersShards(_ buffer: UnsafeMutableBufferPointer<Float>, _ slots: BufferSlots) throws {
        let mine = buffer.baseAddress!
        var sharers = 0, myIndex = 0
        for r in 0..<group.size where slots[r] == mine {
            if r == rank { myIndex = sharers }
            sharers += 1
        }
        // Every rank reads one buffer (workers beyond the CPUs, one NUMA node): nothing to copy,
        // and the barrier already passed is the whole collective (every rank sees the same slots).
        if sharers == group.size { return }
        var distinct = 0
        for r in 0..<group.size where !(0..<r).contains(where: { slots[$0] == slots[r] }) { distinct += 1 }
        for r in 0..<group.size where slots[r] != mine && r % sharers == myIndex {
            let part = shard(of: buffer.count, rank: r)
            if !part.isEmpty { Kernels.copy(slots[r]! + part.lowerBound, mine + part.lowerBound, part.count) }
        }
        // A shared buffer is complete only when all its sharers have copied their part; every rank
        // sees the same slots, so all of them agree on whether to wait.
        if distinct > 1 && distinct < group.size { try group.wait(rank: rank) }
    }

    /// The root copies every rank's part after one barrier; a second keeps the parts alive and
    /// unchanged until it has.
    public func gather(_ part: UnsafeBufferPointer<Float>, count: Int, into whole: UnsafeMutableBufferPointer<Float>?,
                       root: Int) throws {
        guard count >= 0, (0..<group.size).contains(root) else { throw fail("gather of \(count) elements to rank \(root)") }
        guard part.count == shard(of: count, rank: rank).count else {
            throw fail("gather: a part of \(part.count) elements, but this rank's shard of \(count) has \(shard(of: count, rank: rank).count)")
        }
        guard (rank == root) == (whole != nil), (whole?.count ?? count) == count else {
            throw fail("gather: the root (rank \(root)), and only it, passes a whole buffer of \(count) elements")
        }
        guard group.size > 1 else {
            if let whole, !part.isEmpty { Kernels.copy(part.baseAddress!, whole.baseAddress!, part.count) }
            return
        }
        group.partSlots[rank] = UnsafeMutablePointer(mutating: part.baseAddress)
        try meet(.gather, count: count, root: root)
        if let whole {
            for r in 0..<group.size {
                let range = shard(of: count, rank: r)
                if !range.isEmpty { Kernels.copy(group.partSlots[r]!, whole.baseAddress! + range.lowerBound, range.count) }
            }
        }
        try group.wait(rank: rank)
    }

    /// Every rank copies its shard out of the root's buffer after one barrier; a second keeps
    /// that buffer alive until all have.
    public func scatter(_ whole: UnsafeBufferPointer<Float>?, count: Int, into part: UnsafeMutableBufferPointer<Float>,
                        root: Int) throws {
        guard count >= 0, (0..<group.size).contains(root) else { throw fail("scatter of \(count) elements from rank \(root)") }
        let range = shard(of: count, rank: rank)
        guard part.count == range.count else {
            throw fail("scatter: a part of \(part.count) elements, but this rank's shard of \(count) has \(range.count)")
        }
        guard (rank == root) == (whole != nil), (whole?.count ?? count) == count else {
            throw fail("scatter: the root (rank \(root)), and only it, passes a whole buffer of \(count) elements")
        }
        guard group.size > 1 else {
            if let whole, !part.isEmpty { Kernels.copy(whole.baseAddress!, part.baseAddress!, part.count) }
            return
        }
        if let whole { group.partSlots[rank] = UnsafeMutablePointer(mutating: whole.baseAddress) }
        try meet(.scatter, count: count, root: root)
        if !range.isEmpty { Kernels.copy(group.partSlots[root]! + range.lowerBound, part.baseAddress!, range.count) }
        try group.wait(rank: rank)
    }

    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>) throws {
        guard group.size > 1 else { return }
        var start = 0
        repeat {   // one round even for no values: every rank meets
            let end = min(start + ThreadGroup.maxScalars, values.count)
            try allReduceRound(UnsafeMutableBufferPointer(rebasing: values[start..<end]))
            start = end
        } while start < values.count
    }

    /// One all-reduce of at most `maxScalars` values through the scalar slots.
    private func allReduceRound(_ values: UnsafeMutableBufferPointer<Double>) throws {
        let set = group.scalarSlots + group.alternate(.scalar, rank) * group.size * ThreadGroup.maxScalars
        for i in values.indices { set[rank * ThreadGroup.maxScalars + i] = values[i] }
        try meet(.allReduce, count: values.count)
        for i in values.indices {
            values[i] = ReductionTree.sum({ set[$0 * ThreadGroup.maxScalars + i] }, 0, group.size)
        }
    }

    public func barrier() throws {
        guard group.size > 1 else { return }
        try meet(.barrier, count: 0)
    }

    public func abort(_ reason: String) { group.abort(reason) }
}
