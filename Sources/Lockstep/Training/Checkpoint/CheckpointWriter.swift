import Foundation

/// Writes checkpoints into its run's folder on a background queue while training continues,
/// keeping the newest `keep` files of those it wrote itself: a file it did not write (another
/// run's, a user's) is never deleted. Errors are kept and thrown by `finish()`. The folder is a
/// `RunDirectory`: the policy's, or one this writer creates — and removes again, if the fit
/// fails before a checkpoint is in it (`abandon()`).
final class CheckpointWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "lockstep.checkpoint-writer")
    private let policy: CheckpointPolicy
    var everyEpochs: Int { policy.everyEpochs }
    private let lock = NSLock()
    private var written: String?
    /// Checkpoints submitted and not yet written (or failed).
    private var queued = 0
    /// The files this writer wrote and has not deleted, oldest first (touched on the queue only).
    private var own: [String] = []
    private var failure: (any Error)?

    /// The run folder the checkpoints go into.
    let run: RunDirectory
    /// Whether this writer created `run` (and so may remove it).
    private let ownsRun: Bool

    init(policy: CheckpointPolicy) throws {
        self.policy = policy
        ownsRun = policy.run == nil
        run = try policy.run ?? RunDirectory.create(in: policy.directory)
        // A run folder opened to continue a run holds that run's earlier checkpoints: they count
        // against `keep` as this writer's own, so a resumed run keeps its newest `keep` too.
        own = Checkpoint.files(in: run.path)
    }

    /// After a failed fit: a run folder this writer created and left without a checkpoint goes.
    func abandon() {
        if ownsRun { run.close(removeIfEmpty: true) }
    }

    /// The newest checkpoint safely on disk.
    var lastWritten: String? { lock.withLock { written } }

    /// The first write that failed, if one did.
    var failed: (any Error)? { lock.withLock { failure } }

    /// Queues `checkpoint` for writing; `done` runs on the writer's queue once it is on disk.
    /// At most one checkpoint waits behind the one being written: a third waits here for the
    /// queue to drain (epochs of milliseconds and a large model, a checkpoint every epoch, queued
    /// a copy of the model and its optimizer state per epoch faster than the disk took them).
    func submit(_ checkpoint: Checkpoint, done: @escaping @Sendable (String) -> Void) {
        let path = PathText.joined(run.path, Checkpoint.fileName(step: checkpoint.state.step))
        let keep = policy.keep
        if lock.withLock({ queued }) >= 2 { queue.sync {} }
        lock.withLock { queued += 1 }
        queue.async { [self] in
            defer { lock.withLock { queued -= 1 } }
            do {
                try checkpoint.write(to: path)
                lock.withLock { written = path }
                own.removeAll { $0 == path }
                own.append(path)
                while own.count > keep { unlink(own.removeFirst()) }
                done(path)
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
    }

    /// Waits for queued writes; throws the first write error.
    func finish() throws {
        queue.sync {}
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
