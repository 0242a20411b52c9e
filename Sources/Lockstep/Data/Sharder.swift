/// Splits every global batch into one contiguous shard per worker (pillar 1 meets pillar 4).
///
/// Each epoch visits the rows in an order shuffled from (seed, epoch), as PyTorch's
/// `DistributedSampler.set_epoch`; step s of the epoch takes positions [s·B, (s+1)·B) of that
/// order. A shard is a contiguous part of its batch, sizes differing by at most one row; a last
/// partial batch is kept (some shards may then be empty) unless `dropLast`.
///
/// ```swift
/// let sharder = try Sharder(rows: 150, batchSize: 32, workers: 4, seed: 0)
/// sharder.stepsPerEpoch                       // 5 (the last batch has 22 rows)
/// sharder.shard(of: 0..<32, worker: 1)        // 8..<16
/// ```
public struct Sharder: Sendable, Equatable {
    /// Training rows in an epoch.
    public let rows: Int
    /// Rows per global batch, at least `workers`.
    public let batchSize: Int
    /// Workers the batches are split over.
    public let workers: Int
    /// Whether each epoch visits the rows in a shuffled order.
    public let shuffle: Bool
    /// Whether an epoch's last, smaller batch is skipped (PyTorch's `drop_last`).
    public let dropLast: Bool
    /// The seed of the shuffled orders.
    public let seed: UInt64

    /// Throws `ConfigurationError` unless there are rows, every worker gets at least one row of a
    /// batch, and `dropLast` leaves a batch.
    public init(rows: Int, batchSize: Int, workers: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64) throws {
        guard workers >= 1 else { throw ConfigurationError("the worker count must be at least 1, got \(workers)") }
        guard batchSize >= workers else {
            throw ConfigurationError("batch size \(batchSize) is smaller than the worker count \(workers): every worker needs at least one row")
        }
        guard rows > 0 else { throw ConfigurationError("there are no rows to train on") }
        guard !dropLast || rows >= batchSize else {
            throw ConfigurationError("drop-last with batch size \(batchSize) leaves no batch of \(rows) rows")
        }
        self.rows = rows
        self.batchSize = batchSize
        self.workers = workers
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    /// Optimizer steps in one epoch.
    public var stepsPerEpoch: Int { dropLast ? rows / batchSize : (rows + batchSize - 1) / batchSize }

    /// Writes epoch `epoch`'s visiting order into `order` (which must hold `rows` elements);
    /// reusing the array allocates nothing.
    public func order(epoch: Int, into order: inout [Int]) {
        order.withUnsafeMutableBufferPointer { self.order(epoch: epoch, into: $0) }
    }

    /// Writes epoch `epoch`'s visiting order into a buffer of `rows` elements.
    public func order(epoch: Int, into order: UnsafeMutableBufferPointer<Int>) {
        precondition(order.count == rows, "order buffer must hold \(rows) indices")
        guard shuffle else {
            for i in 0..<rows { order[i] = i }
            return
        }
        var rng = RandomGenerator(seed: seed, 0x5EED_0F_E90C, UInt64(epoch))
        guard rows <= Int(UInt32.max) else {
            for i in 0..<rows { order[i] = i }
            rng.shuffle(order)
            return
        }
        // Shuffled as 32-bit indices (the same draws, so the same permutation): the random swaps
        // then touch half the memory, which stays in cache longer.
        let narrow = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: rows)
        defer { narrow.deallocate() }
        for i in 0..<rows { narrow[i] = UInt32(truncatingIfNeeded: i) }
        rng.shuffle(narrow)
        for i in 0..<rows { order[i] = Int(narrow[i]) }
    }

    /// Positions (in the epoch's order) of the global batch at `step`.
    public func batch(step: Int) -> Range<Int> {
        // step < stepsPerEpoch without its division (this runs at every step of every worker).
        let (start, overflow) = step.multipliedReportingOverflow(by: batchSize)
        precondition(step >= 0 && !overflow && (dropLast ? start <= rows - batchSize : start < rows),
                     "step \(step) outside 0..<\(stepsPerEpoch)")
        return (step * batchSize)..<min((step + 1) * batchSize, rows)
    }

    /// Worker `worker`'s contiguous part of `batch`: the first (count mod N) workers get one row more.
    public func shard(of batch: Range<Int>, worker: Int) -> Range<Int> {
        Self.shard(of: batch, worker: worker, workers: workers)
    }

    /// Worker `worker`'s contiguous part of `batch` when it is cut `workers` ways.
    public static func shard(of batch: Range<Int>, worker: Int, workers: Int) -> Range<Int> {
        let n = batch.count, base = n / workers, extra = n % workers
        let start = batch.lowerBound + worker * base + min(worker, extra)
        return start..<(start + base + (worker < extra ? 1 : 0))
    }
}
