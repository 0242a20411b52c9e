/// One rank's view of a job across processes: the collectives of `Communicator` over every
/// process's threads, summing in the fixed pairwise tree over global ranks. Made by
/// `ThreadLauncher(ranks:threads:across:)`.
public final class ClusterCommunicator: Communicator {
    public let rank: Int
    public var worldSize: Int { node.processes * node.ranksPerProcess }
    let node: ProcessNode
    /// This rank's communicator within its process: the barrier, the slots, the in-process sums.
    let local: ThreadCommunicator
    private var w: Int { local.rank }
    private var group: ThreadGroup { node.group }
    private var leads: Bool { local.rank == 0 }

    init(node: ProcessNode, localRank: Int) {
        self.node = node
        local = node.group.communicator(rank: localRank)
        rank = node.process * node.ranksPerProcess + localRank
    }

    private func fail(_ reason: String) -> WorkerAborted {
        group.abort("rank \(rank): \(reason)")
        return WorkerAborted(reason: "rank \(rank): \(reason)")
    }

    private static func bytes(_ p: UnsafePointer<Float>, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + range.lowerBound, count: range.count * MemoryLayout<Float>.stride)
    }

    private static func bytes(_ p: UnsafeMutablePointer<Float>, _ range: Range<Int>) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: p + range.lowerBound, count: range.count * MemoryLayout<Float>.stride)
    }

    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try reduceScatter(buffer) { block, sum in
            Kernels.copy(sum, buffer.baseAddress! + block.lowerBound, block.count)
        }
    }

    /// Round by round, one chunk of every process's block at a time: the threads sum their part
    /// of each chunk over the process's ranks, the first rank continues the tree across processes
    /// (each chunk's total ends at its block's process), and the ranks whose shard a chunk of
    /// this process's block holds consume it.
    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>,
                              consume: (Range<Int>, UnsafePointer<Float>) throws -> Void) throws {
        let mine = shard(of: buffer.count, rank: rank)
        let slots = group.nextReduceSlots(w)
        slots[w] = buffer.baseAddress
        try local.meet(.reduceScatter, count: buffer.count)
        let P = node.processes, C = node.chunk
        let blocks = (0..<P).map { node.block(of: buffer.count, process: $0) }
        let rounds = blocks.map { ($0.count + C - 1) / C }.max() ?? 0
        var counts = [Int](repeating: 0, count: P)
        for round in 0..<rounds {
            let chunks = node.chunks[round & 1].base
            for q in 0..<P {
                let start = blocks[q].lowerBound + round * C
                counts[q] = max(0, min(C, blocks[q].upperBound - start))
                let part = Shards.range(of: counts[q], part: w, parts: node.ranksPerProcess)
                if !part.isEmpty { local.sum(slots, offset: start + part.lowerBound, count: part.count, into: chunks + q * C + part.lowerBound) }
            }
            try group.wait(rank: w)
            if leads { try node.reduceAcross(chunks, counts: counts) }
            try group.wait(rank: w)
            let start = blocks[node.process].lowerBound + round * C
            let lo = max(mine.lowerBound, start), hi = min(mine.upperBound, start + counts[node.process])
            if lo < hi { try consume(lo..<hi, chunks + node.process * C + (lo - start)) }
        }
    }

    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        _ = try allGather(buffer, word: nil)
    }

    public func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, broadcasting word: Int) throws -> Int {
        try allGather(buffer, word: word)
    }

    /// The first rank of each process sends its ranks' shards to every other process and
    /// receives theirs into its own buffer; after the barrier every rank copies the other
    /// processes' blocks from it, and its own process's shards from their ranks' buffers.
    private func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, word: Int?) throws -> Int {
        let count = buffer.count
        guard let base = buffer.baseAddress ?? (count == 0 ? node.chunks[0].base : nil) else { return 0 }
        let buffer = UnsafeMutableBufferPointer(start: base, count: count)   // an empty buffer may have no address
        let slots = group.nextGatherSlots(w)
        slots[w] = base
        try local.meet(word == nil ? .allGather : .allGatherWord, count: count)
        let W = node.ranksPerProcess, p = node.process
        if leads {
            // Written after the meeting: the other ranks read the last word before they reach it.
            if rank == 0, let word { node.word.pointee = word }
            let wordBytes = UnsafeMutableRawBufferPointer(start: node.word, count: MemoryLayout<Int>.stride)
            var sends: [(UnsafeRawBufferPointer, to: Int)] = [], receives: [(UnsafeMutableRawBufferPointer, from: Int)] = []
            for q in 0..<node.processes where q != p {
                if word != nil && p == 0 { sends.append((UnsafeRawBufferPointer(wordBytes), q)) }
                if word != nil && q == 0 { receives.append((wordBytes, 0)) }
                for v in 0..<W {
                    let part = shard(of: count, rank: p * W + v)
                    if !part.isEmpty { sends.append((Self.bytes(UnsafePointer(slots[v]!), part), q)) }
                    let theirs = shard(of: count, rank: q * W + v)
                    if !theirs.isEmpty { receives.append((Self.bytes(buffer.baseAddress!, theirs), q)) }
                }
            }
            try node.exchange(sends: sends, receives: receives)
        }
        try group.wait(rank: w)
        let decided = node.word.pointee
        let first = slots[0]!, mineBase = buffer.baseAddress!
        if !leads {
            for q in 0..<node.processes where q != p {
                let theirs = node.block(of: count, process: q)
                if !theirs.isEmpty && first != mineBase { Kernels.copy(first + theirs.lowerBound, mineBase + theirs.lowerBound, theirs.count) }
            }
        }
        for v in 0..<W where v != w && slots[v] != mineBase {
            let part = shard(of: count, rank: p * W + v)
            if !part.isEmpty { Kernels.copy(slots[v]! + part.lowerBound, mineBase + part.lowerBound, part.count) }
        }
        // No second barrier: by the contract every buffer stays unchanged until all ranks have
        // entered the next collective, and the first rank's (which holds the other processes'
        // blocks) too.
        return word == nil ? 0 : decided
    }

    public func gather(_ part: UnsafeBufferPointer<Float>, count: Int, into whole: UnsafeMutableBufferPointer<Float>?,
                       root: Int) throws {
        guard count >= 0, (0..<worldSize).contains(root) else { throw fail("gather of \(count) elements to rank \(root)") }
        guard part.count == shard(of: count, rank: rank).count else {
            throw fail("gather: a part of \(part.count) elements, but this rank's shard of \(count) has \(shard(of: count, rank: rank).count)")
        }
        guard (rank == root) == (whole != nil), (whole?.count ?? count) == count else {
            throw fail("gather: the root (rank \(root)), and only it, passes a whole buffer of \(count) elements")
        }
        let W = node.ranksPerProcess, p = node.process, rootProcess = root / W
        group.partSlots[w] = UnsafeMutablePointer(mutating: part.baseAddress)
        if let whole { node.whole = whole.baseAddress }
        try local.meet(.gather, count: count, root: root)
        if leads {
            if p == rootProcess {
                var receives: [(UnsafeMutableRawBufferPointer, from: Int)] = []
                for q in 0..<node.processes where q != p {
                    for v in 0..<W {
                        let range = shard(of: count, rank: q * W + v)
                        if !range.isEmpty { receives.append((Self.bytes(node.whole!, range), q)) }
                    }
                }
                try node.exchange(receives: receives)
            } else {
                let sends: [(UnsafeRawBufferPointer, to: Int)] = (0..<W).compactMap { v in
                    let range = shard(of: count, rank: p * W + v)
                    return range.isEmpty ? nil : (UnsafeRawBufferPointer(start: group.partSlots[v]!, count: range.count * MemoryLayout<Float>.stride), rootProcess)
                }
                try node.exchange(sends: sends)
            }
        }
        if let whole {
            for v in 0..<W {
                let range = shard(of: count, rank: p * W + v)
                if !range.isEmpty { Kernels.copy(group.partSlots[v]!, whole.baseAddress! + range.lowerBound, range.count) }
            }
        }
        try group.wait(rank: w)
    }

    public func scatter(_ whole: UnsafeBufferPointer<Float>?, count: Int, into part: UnsafeMutableBufferPointer<Float>,
                        root: Int) throws {
        guard count >= 0, (0..<worldSize).contains(root) else { throw fail("scatter of \(count) elements from rank \(root)") }
        let range = shard(of: count, rank: rank)
        guard part.count == range.count else {
            throw fail("scatter: a part of \(part.count) elements, but this rank's shard of \(count) has \(range.count)")
        }
        guard (rank == root) == (whole != nil), (whole?.count ?? count) == count else {
            throw fail("scatter: the root (rank \(root)), and only it, passes a whole buffer of \(count) elements")
        }
        let W = node.ranksPerProcess, p = node.process, rootProcess = root / W
        group.partSlots[w] = part.baseAddress
        if let whole { node.whole = UnsafeMutablePointer(mutating: whole.baseAddress) }
        try local.meet(.scatter, count: count, root: root)
        if leads {
            if p == rootProcess {
                var sends: [(UnsafeRawBufferPointer, to: Int)] = []
                for q in 0..<node.processes where q != p {
                    for v in 0..<W {
                        let range = shard(of: count, rank: q * W + v)
                        if !range.isEmpty { sends.append((Self.bytes(UnsafePointer(node.whole!), range), q)) }
                    }
                }
                try node.exchange(sends: sends)
            } else {
                let receives: [(UnsafeMutableRawBufferPointer, from: Int)] = (0..<W).compactMap { v in
                    let range = shard(of: count, rank: p * W + v)
                    return range.isEmpty ? nil : (UnsafeMutableRawBufferPointer(start: group.partSlots[v]!, count: range.count * MemoryLayout<Float>.stride), rootProcess)
                }
                try node.exchange(receives: receives)
            }
        }
        if p == rootProcess {   // the root published its whole before the meeting
            if !range.isEmpty { Kernels.copy(node.whole! + range.lowerBound, part.baseAddress!, range.count) }
        }
        try group.wait(rank: w)
    }

    public func allReduce(_ values: UnsafeMutableBufferPointer<Double>) throws {
        var start = 0
        repeat {   // one round even for no values: every rank meets
            let end = min(start + ThreadGroup.maxScalars, values.count)
            try allReduceRound(UnsafeMutableBufferPointer(rebasing: values[start..<end]))
            start = end
        } while start < values.count
    }

    /// The threads' slots summed by the first rank in the tree's order, continued across
    /// processes, published in `node.scalars` for the others.
    private func allReduceRound(_ values: UnsafeMutableBufferPointer<Double>) throws {
        let size = group.size
        let set = group.scalarSlots + group.alternate(.scalar, w) * size * ThreadGroup.maxScalars
        for i in values.indices { set[w * ThreadGroup.maxScalars + i] = values[i] }
        try local.meet(.allReduce, count: values.count)
        if leads {
            let sums = UnsafeMutableBufferPointer(start: node.scalars, count: values.count)
            for i in values.indices { sums[i] = ReductionTree.sum({ set[$0 * ThreadGroup.maxScalars + i] }, 0, size) }
            try node.allReduceAcross(sums)
        }
        try group.wait(rank: w)
        for i in values.indices { values[i] = node.scalars[i] }
        // `node.scalars` is rewritten by the next round's first rank only after that round's
        // meeting, which every rank reaches after reading this one.
    }

    public func barrier() throws {
        try local.meet(.barrier, count: 0)
        if leads { try node.allReduceAcross(UnsafeMutableBufferPointer(start: node.scalars, count: 0)) }
        try group.wait(rank: w)
    }

    public func abort(_ reason: String) { group.abort(reason) }
}
