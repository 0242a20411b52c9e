import Foundation

/// The visiting order of an epoch's rows, shuffled once per process and read by all its workers.
/// Each worker used to shuffle and hold the whole order itself: with 8 workers, 8 shuffles of
/// every row per epoch (a tenth of an 8-worker linreg step) and 8 × 8 bytes a row.
///
/// The first worker to ask for an epoch writes its order under the lock; the others read it.
/// The storage is rewritten for the next epoch, which no worker starts before every worker has
/// finished this one: an epoch ends in collectives (the loss sum and rank 0's decision) that every
/// rank passes after its last step.
final class EpochOrder: @unchecked Sendable {
    private let sharder: Sharder
    private let lock = NSLock()
    private var epoch = -1
    private let storage: UnsafeMutableBufferPointer<Int>

    /// Room for one epoch's order of `sharder.rows` rows.
    init(_ sharder: Sharder) {
        self.sharder = sharder
        storage = .allocate(capacity: sharder.rows)
    }

    deinit { storage.deallocate() }

    /// Epoch `epoch`'s order, valid until some worker asks for another epoch.
    func rows(epoch: Int) -> UnsafeBufferPointer<Int> {
        lock.lock()
        defer { lock.unlock() }
        if self.epoch != epoch {
            sharder.order(epoch: epoch, into: storage)
            self.epoch = epoch
        }
        return UnsafeBufferPointer(storage)
    }
}
