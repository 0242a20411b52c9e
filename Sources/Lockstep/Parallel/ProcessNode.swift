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
