/// The visiting order of an epoch's rows, shuffled once per process and read by all its workers.
/// Each worker used to shuffle and hold the whole order itself: with 8 workers, 8 shuffles of
/// every row per epoch (a tenth of an 8-worker linreg step) and 8 × 8 bytes a row.
///
/// One rank of the process writes each epoch's order at a point where no rank reads it: the
/// first before the workers start, each next one between the epoch's closing collectives — after
/// the loss sum (which every rank of the process enters after its last step) and before rank 0's
/// decision (which none leaves before the writer has entered it). So reading takes no lock: with
/// one, a worker that asked while another shuffled slept in the kernel, once per epoch, and waking
/// it cost more than the shuffle.
final class EpochOrder: @unchecked Sendable {
    private let sharder: Sharder
    /// The epoch whose order `storage` holds.
    private var epoch: Int
    private let storage: UnsafeMutableBufferPointer<Int>

    /// Room for one epoch's order of `sharder.rows` rows, holding epoch `first`'s.
    init(_ sharder: Sharder, first: Int) {
        self.sharder = sharder
        storage = .allocate(capacity: sharder.rows)
        epoch = first
        sharder.order(epoch: first, into: storage)
    }

    deinit { storage.deallocate() }

    /// Writes epoch `epoch`'s order; call it only while no rank reads (see above).
    func prepare(epoch: Int) {
        guard self.epoch != epoch else { return }
        sharder.order(epoch: epoch, into: storage)
        self.epoch = epoch
    }

    /// Epoch `epoch`'s order, which `prepare` (or `init`) wrote.
    func rows(epoch: Int) -> UnsafeBufferPointer<Int> {
        precondition(self.epoch == epoch, "epoch \(epoch)'s order was not prepared (it holds epoch \(self.epoch)'s)")
        return UnsafeBufferPointer(storage)
    }
}
