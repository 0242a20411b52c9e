import Foundation
import Testing
@testable import Lockstep

/// What a tool author may get wrong is an error where it enters, never a trap on a worker thread.
@Suite struct CallerMistakesAreErrors {
    static let spec = ModelSpec.mlp(inputs: 2, hidden: [4], outputs: 3)

    func trainer(_ workers: Int = 2) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: Self.spec, loss: CrossEntropyLoss(),
                                optimizer: .sgd(lr: 0.1))
    }

    @Test(arguments: [Float(-1), 3, 1.5, .nan])
    func aClassIndexOutsideTheClassesIsAnError(bad: Float) throws {
        let data = Dataset(features: Tensor([0, 1, 2, 3, 4, 5, 6, 7], shape: Shape(4, 2)), targets: Tensor([0, 1, bad, 2]),
                           task: .classification, classLabels: ["a", "b", "c"])
        #expect(throws: ConfigurationError.self) { try trainer().fit(data, epochs: 1, batchSize: 4) }
        #expect(throws: ConfigurationError.self) { _ = try trainer().gradient(of: data, rows: [0, 1, 2]) }
    }

    @Test func gradientRowsOutsideTheDataAreAnError() throws {
        let data = Dataset.blobs(count: 8, features: 2, classes: 3, seed: 1)
        #expect(throws: ConfigurationError.self) { _ = try trainer().gradient(of: data, rows: [0, 8]) }
    }

    /// Two threads calling `fit` on one trainer: one trains, the other is told the trainer is busy.
    @Test func aSecondFitAtTheSameTimeIsRefused() throws {
        let data = Dataset.blobs(count: 256, features: 2, classes: 3, seed: 2)
        let t = try trainer(2)
        let outcomes = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            do {
                try t.fit(data, epochs: 200, batchSize: 8)
                outcomes.withLock { $0.append("trained") }
            } catch {
                outcomes.withLock { $0.append("\(error)") }
            }
        }
        let seen = outcomes.withLock { $0 }
        #expect(seen.filter { $0 == "trained" }.count >= 1, "\(seen)")
        #expect(seen.allSatisfy { $0 == "trained" || $0.contains("already running a fit") }, "\(seen)")
        // Afterwards the trainer works as before.
        try t.fit(data, epochs: 1, batchSize: 8)
    }
}
