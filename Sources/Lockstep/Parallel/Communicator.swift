/// The seam between the training engine and the transport that moves Float buffers between
/// workers: threads in one process (`ThreadCommunicator`), or processes over MPI.
///
/// A buffer handed to a collective may be read by other ranks until they have all entered the
/// next collective: keep it alive and unchanged until then — except, after a reduce-scatter,
/// this rank's own shard, which no other rank reads (the optimizer steps it in place).
///
/// Ranks are global. Every sum follows one fixed pairwise tree over ranks —
/// ((r0 + r1) + (r2 + r3)) + … — never the order in which workers arrive, so results are
/// bit-identical from run to run.
public protocol Communicator: AnyObject {
    /// This worker's rank, in 0..<worldSize.
    var rank: Int { get }
    /// Number of ranks in the job.
    var worldSize: Int { get }

    /// Sums `buffer` over all ranks; on return this rank's shard (`shard(of:rank:)`) of
    /// `buffer` holds the sum. The rest of `buffer` is left as it was.
    func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Sums `buffer` over all ranks and hands this rank's shard of the sum to `consume`, block by
    /// block (a range of `buffer`'s indices and the summed values), instead of storing it: an
    /// optimizer step fed this way never writes the summed gradient to memory and reads it back.
    func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>,
                       consume: (Range<Int>, UnsafePointer<Float>) throws -> Void) throws
    /// Copies every rank's shard of its `buffer` into the same shard of everyone's `buffer`.
    func allGather(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// `allGather(buffer)`, and every rank receives rank 0's `word` (what the others pass is
    /// ignored): the run's control decision rides on the step's last synchronization instead of
    /// costing one of its own.
    func allGather(_ buffer: UnsafeMutableBufferPointer<Float>, broadcasting word: Int) throws -> Int
    /// Rank `root` receives every rank's `part` — its shard (`shard(of: count, rank:)`) of a
    /// `count`-element buffer — laid side by side in `whole`; the other ranks pass nil. A
    /// checkpoint collects the sharded optimizer state this way.
    func gather(_ part: UnsafeBufferPointer<Float>, count: Int, into whole: UnsafeMutableBufferPointer<Float>?,
                root: Int) throws
    /// Every rank receives its shard of rank `root`'s `whole` (a `count`-element buffer; the
    /// others pass nil) into `part`. A resume hands out the sharded optimizer state this way.
    func scatter(_ whole: UnsafeBufferPointer<Float>?, count: Int, into part: UnsafeMutableBufferPointer<Float>,
                 root: Int) throws
    /// Sums a few scalars over all ranks, in place (loss sums, squared norms, metric counts).
    func allReduce(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Waits for every rank.
    func barrier() throws
    /// Stops every rank: their pending and later calls throw `WorkerAborted(reason)`.
    func abort(_ reason: String)
}

extension Communicator {
    /// The contiguous part of a `count`-element buffer that `rank` owns: equal parts, each
    /// starting on a 16-Float (64-byte) boundary; the last may be shorter or empty.
    public func shard(of count: Int, rank: Int) -> Range<Int> {
        Shards.range(of: count, part: rank, parts: worldSize)
    }

    /// The plain composition: reduce-scatter, then hand over the whole shard at once.
    public func reduceScatter(_ buffer: UnsafeMutableBufferPointer<Float>,
                              consume: (Range<Int>, UnsafePointer<Float>) throws -> Void) throws {
        try reduceScatter(buffer)
        let mine = shard(of: buffer.count, rank: rank)
        if !mine.isEmpty { try consume(mine, buffer.baseAddress! + mine.lowerBound) }
    }

    /// Sums `values` over all ranks, in place: `allReduce(_:)` on an array.
    public func allReduce(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0) }
    }

    /// Every rank receives rank `root`'s `values`. Built on `allReduce`: the other ranks add
    /// zeros, and x + 0 is x exactly, so the root's values arrive unchanged (−0 as +0).
    public func broadcast(_ values: inout [Double], root: Int = 0) throws {
        if rank != root { for i in values.indices { values[i] = 0 } }
        try allReduce(&values)
    }
}

/// How a flat buffer is cut into per-rank shards.
public enum Shards {
    /// Part `part` of `parts` of a `count`-element buffer: equal chunks, each rounded up to 16
    /// Floats (64 bytes); the last may be shorter or empty.
    public static func range(of count: Int, part: Int, parts: Int) -> Range<Int> {
        let chunk = ((count + parts - 1) / parts + 15) & ~15
        let lo = min(part * chunk, count)
        return lo..<min(lo + chunk, count)
    }
}

/// The fixed summation tree over ranks: a range of ranks is split at the largest power of two
/// below its size, so 4 ranks sum as ((r0 + r1) + (r2 + r3)) and 3 as ((r0 + r1) + r2).
public enum ReductionTree {
    /// Where the rank range `lo..<hi` (size ≥ 2) splits.
    @inlinable public static func split(_ lo: Int, _ hi: Int) -> Int {
        let n = hi - lo
        var p = 1
        while p * 2 < n { p *= 2 }
        return lo + p
    }

    /// Σ values[lo..<hi] in tree order.
    public static func sum(_ values: (Int) -> Double, _ lo: Int, _ hi: Int) -> Double {
        if hi - lo == 1 { return values(lo) }
        let mid = split(lo, hi)
        return sum(values, lo, mid) + sum(values, mid, hi)
    }
}
