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

    /// A `fit` called while another runs on the same trainer (here from inside the first one's
    /// event handler, on another thread than the caller's, so the two surely overlap) is refused;
    /// the running fit goes on, and the trainer works as before afterwards.
    @Test func aSecondFitAtTheSameTimeIsRefused() throws {
        let data = Dataset.blobs(count: 64, features: 2, classes: 3, seed: 2)
        let t = try trainer(2)
        let second = Locked<String?>(nil)
        let result = try t.fit(data, epochs: 2, batchSize: 8) { event in
            guard case .stepEnded(_, 1, _) = event else { return }
            do { try t.fit(data, epochs: 1, batchSize: 8); second.withLock { $0 = "trained" } } catch {
                second.withLock { $0 = "\(error)" }
            }
        }
        #expect(result.steps == 16)
        #expect(second.withLock { $0 }?.contains("already running a fit") == true, "\(String(describing: second.withLock { $0 }))")
        try t.fit(data, epochs: 1, batchSize: 8)
    }
}
