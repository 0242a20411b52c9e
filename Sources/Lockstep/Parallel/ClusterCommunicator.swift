/// What the ranks of one process share in a job across processes: their `ThreadGroup`, the
/// transport to the other processes, and the buffers through which the process's first rank —
/// the only one that talks to other processes — hands results to the others.
///
/// Global rank = process × `ranksPerProcess` + local rank. Sums keep the fixed pairwise tree over
/// global ranks: the threads sum their process's ranks (a subtree of the global tree when
/// `ranksPerProcess` is a power of two) and the processes continue the same tree with
/// point-to-point messages in a fixed pairing, never MPI's own reductions (whose order is
/// unspecified). So P processes × W ranks give the bytes of one process with P·W ranks when W is
/// a power of two; for other W, the bytes of every run with the same P and W.
final class ProcessNode: @unchecked Sendable {
    let group: ThreadGroup
    let transport: any ProcessTransport
    let process: Int
    let processes: Int
    let ranksPerProcess: Int
    /// Floats one cross-process message carries at most (1 MB, less with many processes: a round
    /// holds one chunk of every process's block, 8 MB in all at most). A large gradient moves
    /// chunk by chunk through two alternating rounds of buffers, never as a second whole copy.
    let chunk: Int
    /// Two alternating rounds of `processes` chunks: block q's chunk at offset q × `chunk`.
    let chunks: [AlignedBuffer]
    /// What the first rank receives in one level of a round: one chunk per block.
    let received: AlignedBuffer
    /// The all-reduce's result, published by the first rank.
    let scalars: UnsafeMutablePointer<Double>
    /// What the first rank receives of another process's scalars. Every buffer a message may land
    /// in lives as long as the node: a wait cancelled by a failure leaves its receives posted.
    let scalarsReceived: UnsafeMutablePointer<Double>
    /// Rank 0's control word of an all-gather, received by other processes.
    let word: UnsafeMutablePointer<Int>
    /// The whole buffer of a gather or scatter, published by its root rank.
    var whole: UnsafeMutablePointer<Float>?

    init(group: ThreadGroup, transport: any ProcessTransport) {
        self.group = group
        self.transport = transport
        process = transport.process
        processes = transport.processCount
        ranksPerProcess = group.size
        chunk = max(min(1 << 18, (1 << 21) / processes) & ~15, 16)
        chunks = [AlignedBuffer(count: chunk * processes), AlignedBuffer(count: chunk * processes)]
        received = AlignedBuffer(count: chunk * processes)
        scalars = .allocate(capacity: ThreadGroup.maxScalars)
        scalars.initialize(repeating: 0, count: ThreadGroup.maxScalars)
        scalarsReceived = .allocate(capacity: ThreadGroup.maxScalars)
        scalarsReceived.initialize(repeating: 0, count: ThreadGroup.maxScalars)
        word = .allocate(capacity: 1)
        word.initialize(to: 0)
    }

    deinit {
        scalars.deallocate()
        scalarsReceived.deallocate()
        word.deallocate()
    }

    /// The part of a `count`-element buffer that the ranks of process `q` own: their shards side by side.
    func block(of count: Int, process q: Int) -> Range<Int> {
        let world = processes * ranksPerProcess
        let first = Shards.range(of: count, part: q * ranksPerProcess, parts: world)
        let last = Shards.range(of: count, part: (q + 1) * ranksPerProcess - 1, parts: world)
        return first.lowerBound..<max(first.lowerBound, last.upperBound)
    }

    func exchange(sends: [(UnsafeRawBufferPointer, to: Int)] = [], receives: [(UnsafeMutableRawBufferPointer, from: Int)] = []) throws {
        let barrier = group.barrier
        try transport.exchange(sends: sends, receives: receives) { barrier.isBroken }
    }

    /// Sums one round of chunks over processes in the tree's order: `counts[q]` floats of block
    /// q's chunk (at `values + q × chunk`, this process's partial sums), whose total ends at
    /// process q. With a power of two of processes, by recursive halving (`halve`); else each
    /// block's tree sums a node where its holder is — the block's process if the node spans it,
    /// else the node's first process — and one exchange per node of the tree carries every
    /// block's messages of that node at once, so that the links run both ways.
    func reduceAcross(_ values: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        if processes & (processes - 1) == 0 { return try halve(values, counts: counts) }
        func holder(_ lo: Int, _ hi: Int, _ owner: Int) -> Int { (lo..<hi).contains(owner) ? owner : lo }
        func node(_ lo: Int, _ hi: Int) throws {
            guard hi - lo > 1 else { return }
            let mid = ReductionTree.split(lo, hi)
            let (mine, other) = process < mid ? ((lo, mid), (mid, hi)) : ((mid, hi), (lo, mid))
            try node(mine.0, mine.1)
            var sends: [(UnsafeRawBufferPointer, to: Int)] = [], receives: [(UnsafeMutableRawBufferPointer, from: Int)] = []
            var summed: [Int] = []
            for owner in 0..<processes where counts[owner] > 0 {
                let h = holder(lo, hi, owner)
                let bytes = counts[owner] * MemoryLayout<Float>.stride
                if process == h {
                    receives.append((UnsafeMutableRawBufferPointer(start: received.base + owner * chunk, count: bytes),
                                     holder(other.0, other.1, owner)))
                    summed.append(owner)
                } else if process == holder(mine.0, mine.1, owner) {
                    sends.append((UnsafeRawBufferPointer(start: values + owner * chunk, count: bytes), h))
                }
            }
            try exchange(sends: sends, receives: receives)
            for owner in summed {
                let a = values + owner * chunk, b = received.base + owner * chunk
                for i in 0..<counts[owner] { a[i] += b[i] }
            }
        }
        try node(0, processes)
    }

    /// `reduceAcross` for a power-of-two number of processes: recursive halving from the leaves
    /// up. At level k a process and its partner (the process that differs in bit k) hold partial
    /// sums over their subtrees of 2^k processes for the same blocks; each keeps the half of those
    /// blocks whose bit k is its own and receives the partner's partial sums of them — the tree's
    /// pairs, (x0 + x1) + (x2 + x3), so the same bytes — and a process moves (P − 1)/P of a round
    /// instead of a whole round per level.
    private func halve(_ values: UnsafeMutablePointer<Float>, counts: [Int]) throws {
        var bit = 1
        while bit < processes {
            let partner = process ^ bit
            var sends: [(UnsafeRawBufferPointer, to: Int)] = [], receives: [(UnsafeMutableRawBufferPointer, from: Int)] = []
            var summed: [Int] = []
            // The blocks both hold now: those that agree with this process in the bits below `bit`.
            for owner in 0..<processes where owner & (bit - 1) == process & (bit - 1) && counts[owner] > 0 {
                let bytes = counts[owner] * MemoryLayout<Float>.stride
                if owner & bit == process & bit {
                    receives.append((UnsafeMutableRawBufferPointer(start: received.base + owner * chunk, count: bytes), partner))
                    summed.append(owner)
                } else {
                    sends.append((UnsafeRawBufferPointer(start: values + owner * chunk, count: bytes), partner))
                }
            }
            try exchange(sends: sends, receives: receives)
            for owner in summed {
                let a = values + owner * chunk, b = received.base + owner * chunk
                for i in 0..<counts[owner] { a[i] += b[i] }
            }
            bit <<= 1
        }
    }

    /// Sums `values` (at most `ThreadGroup.maxScalars`) over processes in the tree's order and
    /// hands every process the total.
    func allReduceAcross(_ values: UnsafeMutableBufferPointer<Double>) throws {
        precondition(values.count <= ThreadGroup.maxScalars)
        func node(_ lo: Int, _ hi: Int) throws {
            guard hi - lo > 1 else { return }
            let mid = ReductionTree.split(lo, hi)
            let (mine, other) = process < mid ? ((lo, mid), (mid, hi)) : ((mid, hi), (lo, mid))
            try node(mine.0, mine.1)
            if process == lo {
                let theirs = UnsafeMutableBufferPointer(start: scalarsReceived, count: values.count)
                try exchange(receives: [(UnsafeMutableRawBufferPointer(theirs), other.0)])
                for i in values.indices { values[i] += theirs[i] }
            } else if process == mine.0 {
                try exchange(sends: [(UnsafeRawBufferPointer(values), lo)])
            }
        }
        try node(0, processes)
        let raw = UnsafeMutableRawBufferPointer(values)
        if process == 0 {
            try exchange(sends: (1..<processes).map { (UnsafeRawBufferPointer(raw), $0) })
        } else {
            try exchange(receives: [(raw, 0)])
        }
    }
}

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
        let set = group.scalarSlots + group.parities[w] * size * ThreadGroup.maxScalars
        group.parities[w] ^= 1
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
