import Foundation

extension DataParallelTrainer {
    /// Trains as the blocking `fit` does, for Swift concurrency: the waiting happens on a thread
    /// of its own, never on the cooperative pool (which two blocking fits could starve), and
    /// cancelling the calling task stops the run after its current step, as `stop()` does — the
    /// result then says `stopped`, and a checkpoint is written when checkpoints are on.
    ///
    /// Events still arrive on the coordinating worker's thread; to read them as an async
    /// sequence, yield them into a stream:
    ///
    /// ```swift
    /// let (events, sink) = AsyncStream.makeStream(of: TrainingEvent.self)
    /// let training = Task { try await trainer.fit(train, options) { sink.yield($0) } }
    /// Task { for await event in events { if case let .epochEnded(r) = event { print(r.epoch, r.trainLoss) } } }
    /// let result = try await training.value
    /// sink.finish()
    /// ```
    @discardableResult
    public func fit(_ train: Dataset, _ options: FitOptions,
                    onEvent: @escaping @Sendable (TrainingEvent) -> Void = { _ in }) async throws -> FitResult {
        // The fit's own token: a cancellation that comes before the fit has started still stops it.
        let token = StopToken(parent: options.stopToken)
        var options = options
        options.stopToken = token
        return try await withTaskCancellationHandler { [options] in
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<FitResult, any Error>) in
                let thread = Thread {
                    do {
                        let result: FitResult = try self.fit(train, options, onEvent: onEvent)
                        continuation.resume(returning: result)
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "lockstep-fit"
                thread.start()
            }
        } onCancel: {
            token.stop()
        }
    }
}
