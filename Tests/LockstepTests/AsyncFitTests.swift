import Foundation
import Testing
@testable import Lockstep

/// `fit` from Swift concurrency (issue 15, item 2): off the cooperative pool, cancellable, the
/// same weights as the blocking call.
@Suite struct FitFromSwiftConcurrency {
    static let data = Dataset.blobs(count: 512, features: 8, classes: 3, seed: 6)

    func trainer(_ workers: Int = 2) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: .mlp(inputs: 8, hidden: [64], outputs: 3),
                                seed: 2, loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
    }

    @Test func theAsyncFitGivesTheBlockingFitsWeights() async throws {
        let blocking = try trainer(), concurrent = try trainer()
        try blocking.fit(Self.data, epochs: 3, batchSize: 32, seed: 4)   // the blocking form
        try await concurrent.fit(Self.data, FitOptions(epochs: 3, batchSize: 32, seed: 4))
        #expect(bits(concurrent.replicaParameters(0)) == bits(blocking.replicaParameters(0)))
    }

    /// Two fits awaited at once leave the cooperative pool free: a 10 ms ticker keeps ticking at
    /// the rate it ticked at just before (other suites share the pool, so the rate is measured,
    /// not assumed). Two blocking fits on a 2-core pool stopped it (1 tick in 0.28 s).
    @Test func aTickerKeepsTickingWhileTwoFitsRun() async throws {
        let a = try trainer(), b = try trainer()
        let ticks = Locked(0)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 10_000_000)
                ticks.withLock { $0 += 1 }
            }
        }
        let before = Date()
        try await Task.sleep(nanoseconds: 300_000_000)
        let baseline = Double(ticks.withLock { $0 }) / Date().timeIntervalSince(before)
        let ticksBefore = ticks.withLock { $0 }
        let started = Date()
        async let first = a.fit(Self.data, FitOptions(epochs: 1500, batchSize: 32))
        async let second = b.fit(Self.data, FitOptions(epochs: 1500, batchSize: 32))
        _ = try await (first, second)
        let elapsed = Date().timeIntervalSince(started)
        let during = Double(ticks.withLock { $0 } - ticksBefore) / elapsed
        ticker.cancel()
        #expect(elapsed > 0.1, "the fits were too short to tell (\(elapsed) s)")
        #expect(during >= baseline * 0.25, "\(during) ticks/s during the fits, \(baseline) before")
    }

    @Test func cancellingTheTaskStopsTheFitWithinAStep() async throws {
        let t = try trainer()
        let steps = Locked(0)
        let training = Task {
            try await t.fit(Self.data, FitOptions(epochs: 100_000, batchSize: 32)) { event in
                if case .stepEnded = event { steps.withLock { $0 += 1 } }
            }
        }
        while steps.withLock({ $0 }) < 5 { try await Task.sleep(nanoseconds: 1_000_000) }
        training.cancel()
        let cancelledAt = steps.withLock { $0 }
        let result = try await training.value
        #expect(result.stopped)
        #expect(result.steps <= cancelledAt + 2, "\(result.steps) steps, cancelled at \(cancelledAt)")
    }
}

/// Events as an async sequence beside the fit's task.
@Suite struct EventsAsAnAsyncSequence {
    @Test func theSequenceHoldsEveryEpochInOrderAndEndsWithTheFit() async throws {
        let t = try FitFromSwiftConcurrency().trainer()
        let (events, result) = t.fitWithEvents(FitFromSwiftConcurrency.data, FitOptions(epochs: 7, batchSize: 64))
        var epochs: [Int] = [], steps = 0
        for await event in events {
            if case let .epochEnded(report) = event { epochs.append(report.epoch) }
            if case .stepEnded = event { steps += 1 }
        }
        #expect(epochs == Array(0..<7) && steps == 0)   // step events only when asked for
        #expect(try await result.value.epochs == 7)
    }

    @Test func cancellingTheResultEndsTheFitAndTheSequence() async throws {
        let t = try FitFromSwiftConcurrency().trainer()
        let (events, result) = t.fitWithEvents(FitFromSwiftConcurrency.data, FitOptions(epochs: 100_000, batchSize: 32), steps: true)
        var seen = 0
        for await event in events {
            if case .stepEnded = event { seen += 1 }
            if seen == 5 { result.cancel() }
        }
        let summary = try await result.value   // the loop above ended: the sequence finished with the fit
        #expect(summary.stopped && summary.epochs < 100_000)
    }
}

/// A trained model handed to another task (issue 15, item 6).
@Suite struct SnapshotsOfTheWeights {
    @Test func aSnapshotKeepsItsWeightsWhileTrainingGoesOnAndCrossesTasks() async throws {
        let data = Dataset.blobs(count: 128, features: 4, classes: 3, seed: 8)
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [16], outputs: 3),
                                              loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2))
        try await trainer.fit(data, FitOptions(epochs: 2, batchSize: 16))
        let snapshot = trainer.snapshot()
        let rows = data.features.gatherRows(Array(0..<10))
        let before = try Evaluator.predict(trainer.model, rows)
        try await trainer.fit(data, FitOptions(epochs: 3, batchSize: 16, seed: 1))
        #expect(bits(trainer.replicaParameters(0)) != bits(snapshot.parameters), "training did not move the weights")
        let elsewhere = try await Task.detached { try snapshot.predict(rows) }.value
        #expect(bits(elsewhere.scalars) == bits(before.scalars))
        #expect(TrainedModel(snapshot.makeModule()) == snapshot)
    }
}
