import Synchronization
import Foundation
import Testing
@testable import Lockstep

/// x + fc2(relu(fc1(x))), with a learned gain of its own.
private final class GainResidual: Module {
    let fc1: Linear, fc2: Linear
    let gain: Parameter
    init(_ width: Int) {
        fc1 = Linear(width, width)
        fc2 = Linear(width, width)
        gain = Parameter(name: "gain", shape: Shape(width))
    }
    var parameters: [Parameter] { [gain] }
    var children: [(name: String, module: any Module)] { [("fc1", fc1), ("fc2", fc2)] }
    func forward(_ x: Variable) -> Variable { x + fc2(fc1(x).relu()) * x.tape.parameter(gain) }
    func resetParameters(using generator: inout RandomGenerator) {
        Kernels.fill(gain.value, gain.count, 1)
        fc1.resetParameters(using: &generator)
        fc2.resetParameters(using: &generator)
    }
}

/// A module that draws its own starting values outside the trainer's seed.
private final class Unseeded: Module {
    let w = Parameter(name: "w", shape: Shape(4))
    init() { for i in 0..<4 { w.value[i] = Float.random(in: -1...1) } }
    var parameters: [Parameter] { [w] }
    func forward(_ x: Variable) -> Variable { x * x.tape.parameter(w) }
    func resetParameters(using generator: inout RandomGenerator) {}
}

/// The trainer takes a model of the caller's own (issue 10): one replica per worker from a
/// factory, identical by the seed, trained data-parallel with the same guarantees as built-in ones.
@Suite struct ACustomModelTrainsDataParallel {
    static let data = Dataset.blobs(count: 240, features: 6, classes: 3, seed: 4)

    static func factory() -> Sequential { Sequential { Linear(6, 16); GainResidual(16); ReLU(); Linear(16, 3) } }

    func trainer(_ workers: Int, seed: UInt64 = 7) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: { Self.factory() }, seed: seed,
                                loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2))
    }

    @Test(arguments: [2, 3, 4])
    func nWorkersGiveOneWorkersGradient(workers: Int) throws {
        let rows = Array(0..<96)
        let one = try trainer(1).gradient(of: Self.data, rows: rows)
        let many = try trainer(workers).gradient(of: Self.data, rows: rows)
        let difference = relativeDifference(many, one)
        #expect(one.contains { $0 != 0 } && difference <= 1e-5, "relative difference \(difference)")
    }

    @Test func runsAreBitIdenticalAndReplicasAgree() throws {
        let a = try trainer(3), b = try trainer(3)
        try a.fit(Self.data, epochs: 3, batchSize: 32, seed: 1)
        try b.fit(Self.data, epochs: 3, batchSize: 32, seed: 1)
        #expect(bits(a.replicaParameters(0)) == bits(b.replicaParameters(0)))
        for rank in 1..<3 { #expect(bits(a.replicaParameters(rank)) == bits(a.replicaParameters(0))) }
        #expect(a.model.stateDict()["1.gain"] != nil && a.model.stateDict()["1.fc2.bias"] != nil)
        #expect(a.spec == nil)
    }

    @Test func stopAndResumeEndsBitIdenticalAndAnotherLayoutIsRefused() throws {
        let directory = try temporaryDirectory()
        var options = FitOptions(epochs: 4, batchSize: 32, seed: 2)
        let whole = try trainer(2)
        try whole.fit(Self.data, options)

        options.checkpoints = CheckpointPolicy(directory: directory.path)
        let first = try trainer(2)
        let stopped = try first.fit(Self.data, options) { event in
            if case let .stepEnded(_, step, _) = event, step == 11 { first.stop() }
        }
        #expect(stopped.stopped)
        let point = try ResumePoint.newest(in: directory.path)
        var resumed = FitOptions(epochs: 4, batchSize: 32, seed: 2)
        resumed.resume = point.checkpoint
        let second = try trainer(2)
        try second.fit(Self.data, resumed)
        #expect(bits(second.replicaParameters(0)) == bits(whole.replicaParameters(0)))

        let other = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { Sequential { Linear(6, 16); GainResidual(16); Linear(16, 3) } },
                                            seed: 7, loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2))
        #expect { try other.fit(Self.data, resumed) } throws: { "\($0)".contains("parameters differ in name or shape") }
    }

    @Test func aSnapshotRebuildsTheModelButNoModelFileDescribesIt() throws {
        let t = try trainer(2)
        try t.fit(Self.data, epochs: 2, batchSize: 32)
        let snapshot = t.snapshot()
        #expect(snapshot.spec == nil)
        let fromSnapshot = try snapshot.predict(Self.data.features), live = try Evaluator.predict(t.model, Self.data.features)
        #expect(fromSnapshot == live)
        #expect(throws: ConfigurationError.self) { try SavedModel(snapshot, describing: Self.data, standardization: nil) }
        // The best model is rebuilt by the factory too.
        let keeping = try trainer(2)
        var options = FitOptions(epochs: 3, batchSize: 32)
        options.validation = Self.data
        options.keepBest = true
        let result = try keeping.fit(Self.data, options)
        let best = try #require(keeping.bestModel())
        #expect(best.stateDict().keys.sorted() == t.model.stateDict().keys.sorted())
        #expect(try Evaluator.evaluate(best, on: Self.data, loss: CrossEntropyLoss()).loss == result.best?.value)
    }

    @Test func dataOfAnotherWidthIsRefusedByTheFirstBuiltinLayer() throws {
        let narrow = Dataset.blobs(count: 40, features: 5, classes: 3)
        #expect { try trainer(2).fit(narrow, epochs: 1, batchSize: 8) } throws: {
            "\($0)" == "the training data has 5 features, the model takes 6"
        }
    }

    @Test func replicasThatStartDifferentAreRefused() {
        #expect { try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { Sequential { Unseeded(); Linear(4, 2) } },
                                          loss: MSELoss(), optimizer: .sgd(lr: 0.1)) } throws: {
            "\($0)".contains("the replicas start different")
        }
    }

    @Test func aFactoryThatBuildsOtherLayersOnOtherCallsIsRefused() {
        let calls = Atomic<Int>(0)
        #expect { try DataParallelTrainer(workers: 2, topology: flatTopology(), model: {
            let odd = calls.wrappingAdd(1, ordering: .relaxed).oldValue % 2 == 1
            return Sequential([Linear(4, 8), odd ? Tanh() : ReLU(), Linear(8, 2)])
        }, loss: MSELoss(), optimizer: .sgd(lr: 0.1)) } throws: { "\($0)".contains("the replicas start different") }
    }
}

/// A model of the caller's own that does not fit the data is an error before training, on the
/// caller's thread, never a trap on a worker's (review of the custom-model trainer).
@Suite struct ACustomModelThatDoesNotFitTheData {
    static let images: Dataset = {
        var d = Dataset.blobs(count: 40, features: 64, classes: 3, seed: 1)
        d.features = d.features.reshaped(Shape(40, 1, 8, 8))
        return d
    }()

    func fit(_ data: Dataset, _ layers: @escaping @Sendable () -> Sequential) throws {
        let t = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: layers, loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        try t.fit(data, epochs: 1, batchSize: 8)
    }

    @Test func flatRowsIntoAConvolution() {
        #expect { try fit(Dataset.blobs(count: 40, features: 64, classes: 3)) { Sequential { Conv2d(1, 4, kernel: 3); Flatten(); Linear(144, 3) } } } throws: {
            "\($0)".hasPrefix("the training data does not fit the model: conv2d needs input [N, C, H, W]")
        }
    }

    @Test func aKernelLargerThanTheImage() {
        #expect { try fit(Self.images) { Sequential { Conv2d(1, 4, kernel: 9); Flatten(); Linear(4, 3) } } } throws: {
            "\($0)".contains("a 9×9 kernel (dilation 1) does not fit the input")
        }
    }

    @Test func aFlattenIntoALinearOfTheWrongWidth() {
        #expect { try fit(Self.images) { Sequential { Conv2d(1, 4, kernel: 3); Flatten(); Linear(64, 3) } } } throws: {
            "\($0)".contains("linear: input [2, 144] does not match weight [3, 64]")
        }
    }

    @Test func aPoolingWindowOfZero() {
        #expect { try fit(Self.images) { Sequential { MaxPool2d(0); Flatten(); Linear(64, 3) } } } throws: {
            "\($0)".contains("maxPool2d: kernel and stride must be ≥ 1")
        }
    }

    @Test func featuresReshapedToOtherRowsThanTheTargets() {
        var data = Self.images
        data.features = data.features.reshaped(Shape(80, 1, 4, 8))
        #expect { try fit(data) { Sequential { Flatten(); Linear(32, 3) } } } throws: {
            "\($0)".contains("do not have one row each per sample")
        }
    }
}
