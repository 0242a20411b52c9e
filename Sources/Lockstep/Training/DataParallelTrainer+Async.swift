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
    public func fit(_ train: any DataSource, _ options: FitOptions,
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

extension DataParallelTrainer {
    /// Starts a fit and hands back its events as an async sequence beside the task that runs it:
    /// iterate `events` in one task while `result` trains; the sequence ends when the fit does.
    /// Cancelling `result` stops the fit after its current step. `.stepEnded` events come only
    /// with `steps: true` (there is one per step: a reader that falls behind would hold them all).
    ///
    /// ```swift
    /// let (events, result) = trainer.fitWithEvents(train, options)
    /// for await case let .epochEnded(report) in events { print(report.epoch + 1, report.trainLoss) }
    /// let summary = try await result.value
    /// ```
    public func fitWithEvents(_ train: any DataSource, _ options: FitOptions, steps: Bool = false)
        -> (events: AsyncStream<TrainingEvent>, result: Task<FitResult, any Error>) {
        let (events, sink) = AsyncStream.makeStream(of: TrainingEvent.self)
        let result = Task {
            defer { sink.finish() }
            return try await self.fit(train, options) { event in
                if case .stepEnded = event, !steps { return }
                sink.yield(event)
            }
        }
        return (events, result)
    }
}
