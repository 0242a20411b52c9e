import Foundation
import Testing
@testable import Lockstep

/// Batch normalization (issue 10): its backward rule against finite differences, its two modes,
/// and its statistics over the global batch — the same model on any number of workers, every
/// replica's running statistics identical.
@Suite struct BatchNormalization {
    let rules = BackwardRulesAgreeWithFiniteDifferences()

    @Test(arguments: [[6, 4], [3, 4, 5], [3, 2, 3, 3]])
    func backwardAgreesWithFiniteDifferences(shape: [Int]) {
        let channels = shape[1]
        let x = rules.random(Shape(shape), seed: 1)
        let w = rules.random(Shape(channels), seed: 2), b = rules.random(Shape(channels), seed: 3)
        let running = UnsafeMutablePointer<Float>.allocate(capacity: 2 * channels)
        defer { running.deallocate() }
        rules.check([x, w, b]) { v, _ in
            rules.weighted(v[0].batchNorm(weight: v[1], bias: v[2], runningMean: running, runningVar: running + channels,
                                          batchesTracked: nil))
        }
    }

    @Test func trainingUpdatesTheRunningStatisticsAndInferenceUsesThem() {
        let layer = BatchNorm1d(2, momentum: 0.5)
        let x = Tensor([[1, 10], [3, 20], [5, 60]])
        let y = layer(Tape().input(x)).scalars
        // Channel 0: mean 3, biased variance 8/3; normalized as (x − 3)/√(8/3 + 1e-5).
        #expect(abs(y[0] - (-2 / (8 / 3 + 1e-5 as Float).squareRoot())) < 1e-6)
        // Running: ½ · 0 + ½ · mean; ½ · 1 + ½ · unbiased variance (4 for channel 0).
        #expect(layer.runningMean.tensor.scalars == [1.5, 15])
        #expect(layer.runningVar.tensor.scalars == [0.5 + 0.5 * 4, 0.5 + 0.5 * 700])
        #expect(layer.batchesTracked.tensor.scalars == [1])
        let before = layer.stateDict()
        let z = layer(Tape(mode: .inference).input(x)).scalars
        #expect(abs(z[0] - (1 - 1.5) / (2.5 + 1e-5 as Float).squareRoot()) < 1e-6)
        #expect(layer.stateDict() == before, "inference changed the state")
    }

    @Test func aSingleValuePerChannelIsRefusedInTraining() {
        let tape = Tape()
        _ = BatchNorm2d(3)(tape.input(Tensor(zeros: Shape(1, 3, 1, 1))))
        #expect(tape.failure?.contains("more than one value per channel") == true)
        let wrongRank = Tape()
        _ = BatchNorm2d(3)(wrongRank.input(Tensor(zeros: Shape(4, 3))))
        #expect(wrongRank.failure == "BatchNorm2d(3) needs an input of rank 4, got [4, 3]")
    }
}

/// The README's DigitsCNN (two convolutions with batch norm, a residual block; the tests' copy of
/// its classes) trained data-parallel on digits as 1 × 8 × 8 images.
@Suite struct ABatchNormModelTrainsDataParallel {
    static let digits = try! Dataset.readCSV(at: fixture("digits.csv")).reshapedSamples(to: [1, 8, 8])

    func trainer(_ workers: Int) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: { DigitsCNN() }, seed: 5,
                                loss: CrossEntropyLoss(), optimizer: .adam(lr: 3e-3))
    }

    @Test func theClassIsTheRootAndItsTensorsKeepTheirOwnNames() throws {
        let names = try trainer(1).model.stateDict().keys.sorted()
        #expect(names.contains("conv1.weight") && names.contains("bn1.running_mean") && names.contains("block.bn2.num_batches_tracked"))
        #expect(names.contains("fc.bias") && !names.contains { $0.hasPrefix("0.") })
    }

    @Test(arguments: [2, 3, 4])
    func nWorkersGiveOneWorkersGradient(workers: Int) throws {
        let rows = Array(0..<48)
        let one = try trainer(1).gradient(of: Self.digits, rows: rows)
        let many = try trainer(workers).gradient(of: Self.digits, rows: rows)
        let difference = relativeDifference(many, one)
        #expect(one.contains { $0 != 0 } && difference <= 1e-5, "relative difference \(difference)")
    }

    @Test func theRunningStatisticsSpanTheGlobalBatchOnEveryReplica() throws {
        let one = try trainer(1), four = try trainer(4)
        let batch = Self.digits.subset(Array(0..<64))   // one step of 64 rows
        try one.fit(batch, epochs: 1, batchSize: 64, seed: 1)
        try four.fit(batch, epochs: 1, batchSize: 64, seed: 1)
        for rank in 1..<4 { #expect(bits(four.replicaBuffers(rank)) == bits(four.replicaBuffers(0))) }
        let difference = relativeDifference(four.replicaBuffers(0), one.replicaBuffers(0))
        #expect(difference <= 1e-6, "running statistics of 4 workers vs 1: \(difference)")
    }

    @Test func runsAreBitIdenticalAndAResumeEndsWhereTheWholeRunEnds() throws {
        let data = Self.digits.subset(Array(0..<320))
        var options = FitOptions(epochs: 3, batchSize: 32, seed: 2)
        let whole = try trainer(3), again = try trainer(3)
        try whole.fit(data, options)
        try again.fit(data, options)
        #expect(bits(whole.replicaParameters(0)) == bits(again.replicaParameters(0)))
        #expect(bits(whole.replicaBuffers(0)) == bits(again.replicaBuffers(0)))

        let directory = try temporaryDirectory()
        options.checkpoints = CheckpointPolicy(directory: directory.path)
        let first = try trainer(3)
        try first.fit(data, options) { event in
            if case let .stepEnded(_, step, _) = event, step == 13 { first.stop() }
        }
        var resumed = FitOptions(epochs: 3, batchSize: 32, seed: 2)
        resumed.resume = try ResumePoint.newest(in: directory.path).checkpoint
        let second = try trainer(3)
        try second.fit(data, resumed)
        #expect(bits(second.replicaParameters(0)) == bits(whole.replicaParameters(0)))
        #expect(bits(second.replicaBuffers(0)) == bits(whole.replicaBuffers(0)))
    }

    @Test func itsStateDictSavesAndLoadsByNameStrictly() throws {
        let t = try trainer(2)
        try t.fit(Self.digits, epochs: 1, batchSize: 64)
        let path = try temporaryDirectory().appendingPathComponent("net.safetensors").path
        try t.model.save(to: path)
        let fresh = DigitsCNN()
        try fresh.load(from: path)
        #expect(fresh.stateDict() == t.model.stateDict())
        let probe = Tensor(Array(Self.digits.features.scalars.prefix(5 * 64)), shape: Shape(5, 1, 8, 8))
        let fromFile = try Evaluator.predict(Sequential(root: fresh), probe), live = try Evaluator.predict(t.model, probe)
        #expect(fromFile == live)

        final class Narrower: Module {
            let conv1 = Conv2d(1, 4, kernel: 3, padding: 1)
            var children: [(name: String, module: any Module)] { [("conv1", conv1)] }
            func forward(_ x: Variable) -> Variable { conv1(x) }
        }
        #expect { try Narrower().load(from: path) } throws: { "\($0)".contains("unexpected tensor 'block.bn1.bias'") }
    }
}

/// What a file or checkpoint may put into batch norm's buffers: a variance is not negative, a
/// batch count is a whole number Lockstep keeps exactly.
@Suite struct BufferValuesAreChecked {
    func saved(_ edit: (inout [String: Tensor]) -> Void) throws -> String {
        let model = Sequential([Linear(4, 3), BatchNorm1d(3)])
        var state = model.stateDict()
        edit(&state)
        let path = try temporaryDirectory().appendingPathComponent("edited.safetensors").path
        var file = SafeTensors()
        for (name, tensor) in state.sorted(by: { $0.key < $1.key }) { file.append(name, tensor) }
        try file.write(to: path)
        return path
    }

    @Test func aNegativeVarianceOrAHugeCountIsRefusedOnLoading() throws {
        let negative = try saved { $0["1.running_var"] = Tensor([1, -1, 1]) }
        #expect { try Sequential([Linear(4, 3), BatchNorm1d(3)]).load(from: negative) } throws: {
            "\($0)".contains("buffer '1.running_var' holds -1.0, below its minimum 0.0")
        }
        let huge = try saved { $0["1.num_batches_tracked"] = Tensor([1e30], shape: .scalar) }
        #expect { try Sequential([Linear(4, 3), BatchNorm1d(3)]).load(from: huge) } throws: {
            "\($0)".contains("it counts in whole numbers up to 2^24")
        }
    }
}

/// Model factories that would share a tensor between replicas, and layers left out of `children`.
@Suite struct ModulesTheTrainerRefuses {
    final class Twice: Module {
        let fc = Linear(64, 10)
        var children: [(name: String, module: any Module)] { [("fc", fc), ("fc_again", fc)] }
        func forward(_ x: Variable) -> Variable { fc(x) }
    }

    final class Hidden: Module {
        let fc1 = Linear(64, 16), fc2 = Linear(16, 10)
        var children: [(name: String, module: any Module)] { [("fc2", fc2)] }   // fc1 forgotten
        func forward(_ x: Variable) -> Variable { fc2(fc1(x).relu()) }
    }

    static let digits = try! Dataset.readCSV(at: fixture("digits.csv"))

    @Test func aFactoryThatReturnsOneModuleToEveryWorker() {
        let shared = SharedBox(Sequential([Linear(64, 10)]))
        #expect { try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { shared.module }, loss: CrossEntropyLoss(),
                                          optimizer: .sgd(lr: 0.1)) } throws: {
            "\($0)".contains("the model factory handed two workers the same") && "\($0)".contains("build a new module on every call")
        }
    }

    @Test func aModuleListedTwice() {
        #expect { try DataParallelTrainer(workers: 1, model: { Twice() }, loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1)) } throws: {
            "\($0)".contains("parameter 'weight' [10, 64] is reached twice in one model")
        }
    }

    @Test func aLayerLeftOutOfChildren() throws {
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { Hidden() }, loss: CrossEntropyLoss(),
                                              optimizer: .sgd(lr: 0.1))
        #expect { try trainer.fit(Self.digits, epochs: 1, batchSize: 32) } throws: {
            "\($0)".contains("uses a parameter 'weight' [16, 64] that is not among its modules")
        }
    }
}

final class SharedBox: @unchecked Sendable {
    let module: any Module
    init(_ module: any Module) { self.module = module }
}

extension ModulesTheTrainerRefuses {
    @Test func evaluatingDataThatDoesNotFitTheModelThrows() {
        let model = Sequential([Linear(8, 3)])
        #expect { try Evaluator.evaluate(model, on: Self.digits, loss: CrossEntropyLoss()) } throws: {
            "\($0)".hasPrefix("the data does not fit the model: linear")
        }
        #expect { try Evaluator.predict(model, Tensor(zeros: Shape(2, 5))) } throws: { "\($0)".hasPrefix("the data does not fit the model") }
    }
}
