import Foundation
import Testing
@testable import Lockstep

/// Every window of `length` values of a series, predicting the value after it: a data source of
/// the caller's own, made on the fly from rows (issue 10).
struct SeriesWindows: DataSource {
    let series: [Float]
    let length: Int
    var count: Int { series.count - length }
    var sampleShape: Shape { Shape(1, length) }
    var targetShape: Shape { Shape(1) }
    var task: LearningTask { .regression }
    func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>) {
        for (i, row) in rows.enumerated() {
            for t in 0..<length { features[i * length + t] = series[row + t] }
            targets[i] = series[row + length]
        }
    }
    func fingerprint() -> DataFingerprint {
        var hash = XXH3()
        series.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        return DataFingerprint(digest: hash.hexDigest(), description: "windows of \(length)")
    }
}

@Suite struct ASourceOfTheCallersOwnIsShardedShuffledAndCheckpointed {
    static let windows = SeriesWindows(series: (0..<400).map { Float(sin(Double($0) * 0.21) + 0.3 * cos(Double($0) * 0.05)) }, length: 16)

    func trainer(_ workers: Int) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: {
            Sequential { Conv1d(1, 4, kernel: 3, padding: 1); BatchNorm1d(4); ReLU(); Flatten(); Linear(64, 1) }
        }, seed: 1, loss: MSELoss(), optimizer: .adam(lr: 3e-3))
    }

    @Test(arguments: [2, 3])
    func nWorkersGiveOneWorkersGradient(workers: Int) throws {
        let rows = Array(0..<60)
        let one = try trainer(1).gradient(of: Self.windows, rows: rows)
        let many = try trainer(workers).gradient(of: Self.windows, rows: rows)
        let difference = relativeDifference(many, one)
        #expect(one.contains { $0 != 0 } && difference <= 1e-5, "relative difference \(difference)")
    }

    @Test func itLearnsAndAResumeEndsWhereTheWholeRunEnds() throws {
        var options = FitOptions(epochs: 4, batchSize: 32, seed: 3)
        let whole = try trainer(2)
        let result = try whole.fit(Self.windows, options)
        #expect(result.history.last!.trainLoss < result.history.first!.trainLoss / 2, "\(result.history.map(\.trainLoss))")

        let directory = try temporaryDirectory()
        options.checkpoints = CheckpointPolicy(directory: directory.path)
        let first = try trainer(2)
        try first.fit(Self.windows, options) { event in
            if case let .stepEnded(_, step, _) = event, step == 17 { first.stop() }
        }
        var resumed = FitOptions(epochs: 4, batchSize: 32, seed: 3)
        resumed.resume = try ResumePoint.newest(in: directory.path).checkpoint
        #expect(resumed.resume?.state.data.description == "windows of 16")
        let second = try trainer(2)
        try second.fit(Self.windows, resumed)
        #expect(bits(second.replicaParameters(0)) == bits(whole.replicaParameters(0)))
        #expect(bits(second.replicaBuffers(0)) == bits(whole.replicaBuffers(0)))

        let other = SeriesWindows(series: Self.windows.series.map { $0 + 1 }, length: 16)
        #expect { try trainer(2).fit(other, resumed) } throws: { "\($0)".contains("cannot resume: the data differs") }
    }

    @Test func shapesThatDoNotFitTheModelAreRefusedBeforeTraining() throws {
        let longer = SeriesWindows(series: Self.windows.series, length: 20)
        #expect { try trainer(2).fit(longer, epochs: 1, batchSize: 32) } throws: {
            "\($0)".contains("the training data does not fit the model") && "\($0)".contains("linear")
        }
    }
}

/// A loss written as a closure trains like a built-in one (issue 10).
@Suite struct ALossOfTheCallersOwn {
    static let mse = CustomLoss(name: "my-mse") { output, target, divisor in
        let error = output - target
        return (error * error).sum() * (1 / divisor)
    }

    @Test(arguments: [1, 3])
    func itGivesTheBuiltinLossesGradientOnAnyNumberOfWorkers(workers: Int) throws {
        let data = ASourceOfTheCallersOwnIsShardedShuffledAndCheckpointed.windows
        func trainer(_ loss: any Loss, _ n: Int) throws -> DataParallelTrainer {
            try DataParallelTrainer(workers: n, topology: flatTopology(), model: { Sequential { Flatten(); Linear(16, 8); ReLU(); Linear(8, 1) } },
                                    seed: 2, loss: loss, optimizer: .sgd(lr: 0.1))
        }
        let rows = Array(0..<48)
        let builtin = try trainer(MSELoss(), 1).gradient(of: data, rows: rows)
        let custom = try trainer(Self.mse, workers).gradient(of: data, rows: rows)
        let difference = relativeDifference(custom, builtin)
        #expect(builtin.contains { $0 != 0 } && difference <= 1e-5, "relative difference \(difference)")
    }

    @Test func aLossThatIsNotAScalarIsRefusedBeforeTraining() throws {
        let perRow = CustomLoss(name: "rows") { output, target, _ in output - target }
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { Sequential { Flatten(); Linear(16, 1) } },
                                              loss: perRow, optimizer: .sgd(lr: 0.1))
        #expect { try trainer.fit(ASourceOfTheCallersOwnIsShardedShuffledAndCheckpointed.windows, epochs: 1, batchSize: 32) } throws: {
            "\($0)".contains("loss 'rows' returned [2, 1], not a scalar")
        }
    }
}

/// What the second review found: evaluation of data edited after it was built, a custom module's
/// accuracy, a loss on another tape, sources whose size is impossible or changes.
@Suite struct EvaluationAndSourcesRefuseWhatTheyCannotUse {
    static let iris = try! Dataset.readCSV(at: fixture("iris.csv"))

    final class TenOutputs: Module {
        let fc = Linear(4, 10)
        var children: [(name: String, module: any Module)] { [("fc", fc)] }
        func forward(_ x: Variable) -> Variable { fc(x) }
    }

    @Test func editedRowsAreRefusedNotReadPastTheirEnd() {
        var edited = Self.iris
        edited.features = Tensor(zeros: Shape(3000, 4))
        #expect { try Evaluator.evaluate(Sequential([Linear(4, 3)]), on: edited, loss: CrossEntropyLoss()) } throws: {
            "\($0)".contains("do not have one row each per sample")
        }
        var nan = Self.iris
        nan.targets = Tensor(Array(repeating: Float.nan, count: 150))
        #expect { try Evaluator.evaluate(Sequential([Linear(4, 3)]), on: nan, loss: CrossEntropyLoss()) } throws: {
            "\($0)".contains("has class index nan")
        }
    }

    @Test func aCustomModulesAccuracyCountsItsOwnOutputs() throws {
        let net = TenOutputs()
        let custom = try Evaluator.evaluate(Sequential(root: net), on: Self.iris, loss: CrossEntropyLoss())
        let builtin = Sequential([Linear(4, 10)])
        try builtin.loadStateDict(net.stateDict().reduce(into: [:]) { $0[$1.key.replacingOccurrences(of: "fc.", with: "0.")] = $1.value })
        let reference = try Evaluator.evaluate(builtin, on: Self.iris, loss: CrossEntropyLoss())
        #expect(custom.accuracy == reference.accuracy && custom.loss == reference.loss)
    }

    @Test func aModelThatGivesOtherRowsThanItTakesIsRefusedByPredict() {
        final class Summed: Module {
            let fc = Linear(4, 3)
            var children: [(name: String, module: any Module)] { [("fc", fc)] }
            func forward(_ x: Variable) -> Variable { fc(x).sum() }
        }
        #expect { try Evaluator.predict(Sequential(root: Summed()), Self.iris.features) } throws: {
            "\($0)".contains("one output row per input row is needed")
        }
    }

    @Test func aLossFromAnotherTapeIsRefused() throws {
        let elsewhere = CustomLoss(name: "elsewhere") { _, _, _ in Tape().input(Tensor([0.5], shape: .scalar)) }
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { Sequential { Flatten(); Linear(16, 1) } },
                                              loss: elsewhere, optimizer: .sgd(lr: 0.1))
        #expect { try trainer.fit(ASourceOfTheCallersOwnIsShardedShuffledAndCheckpointed.windows, epochs: 1, batchSize: 32) } throws: {
            "\($0)".contains("loss 'elsewhere' returned a value of another tape")
        }
    }

    struct Sized: DataSource {
        let count: Int
        var sampleShape: Shape { Shape(4) }
        var targetShape: Shape { .scalar }
        var task: LearningTask { .classification }
        var classCount: Int { 3 }
        func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>) {
            for i in rows.indices { (features + 4 * i).update(repeating: 0, count: 4); targets[i] = 0 }
        }
        func fingerprint() -> DataFingerprint { DataFingerprint(digest: "", description: "sized") }
    }

    @Test(arguments: [(-5, "the training data source says it has -5 samples"), (1 << 40, "the workers keep an epoch's order of 8 bytes a sample")])
    func impossibleSizesAreRefused(count: Int, message: String) throws {
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [], outputs: 3),
                                              loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        #expect { try trainer.fit(Sized(count: count), epochs: 1, batchSize: 8) } throws: { "\($0)".contains(message) }
    }
}
