import Testing
@testable import Lockstep

/// The foundation's recipe reaches PyTorch's quality: standardize (train statistics) → MLP with
/// 64 ReLU hidden units → Adam(1e-3) → batch 32 → 100 epochs → seeded 80/20 split.
///
/// A 30-row test split moves iris accuracy by several points from one split to the next, so the
/// thresholds apply to the mean over several seeded splits. PyTorch 2.15 on exactly these splits
/// (`python Benchmarks/reference/recipe_accuracy.py Tests/LockstepTests/Fixtures/iris.csv`):
/// iris 0.920 over splits 0…9 (0.87–1.0 each), digits 0.978 over splits 0…4.
@Suite struct TrainingQuality {
    func meanRecipeAccuracy(_ file: String, workers: Int, splits: Int) throws -> Float {
        let data = try Dataset.readCSV(at: fixture(file))
        var total: Float = 0
        for seed in 0..<splits { total += try recipeAccuracy(data, workers: workers, seed: UInt64(seed)) }
        return total / Float(splits)
    }

    func recipeAccuracy(_ data: Dataset, workers: Int, seed: UInt64) throws -> Float {
        let split = try data.split(testFraction: 0.2, seed: seed)
        let scaler = Standardizer(fitting: split.train.features)
        let train = scaler.transform(split.train), test = scaler.transform(split.test)
        let trainer = try DataParallelTrainer(
            workers: workers, topology: flatTopology(),
            model: .mlp(inputs: data.featureCount, hidden: [64], outputs: data.outputCount), seed: seed,
            loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
        try trainer.fit(train, epochs: 100, batchSize: 32, seed: seed)
        return try Evaluator.evaluate(trainer.model, on: test, loss: CrossEntropyLoss()).accuracy!
    }

    @Test(arguments: [1, 4])
    func iris(workers: Int) throws {
        let accuracy = try meanRecipeAccuracy("iris.csv", workers: workers, splits: 10)
        #expect(accuracy >= 0.91)
        print("iris, \(workers) workers: mean accuracy \(accuracy)")
    }

    @Test(arguments: [1, 4])
    func digits(workers: Int) throws {
        let accuracy = try meanRecipeAccuracy("digits.csv", workers: workers, splits: 5)
        #expect(accuracy >= 0.96)
        print("digits, \(workers) workers: mean accuracy \(accuracy)")
    }

    @Test(arguments: [1, 2])
    func theBuiltinLineIsLearned(workers: Int) throws {
        let split = try Dataset.linear(seed: 0).split(testFraction: 0.2, seed: 0)
        let trainer = try DataParallelTrainer(workers: workers, topology: flatTopology(), model: .mlp(inputs: 1, hidden: [], outputs: 1),
                                              loss: MSELoss(), optimizer: .sgd(lr: 0.1, momentum: 0.9))
        try trainer.fit(split.train, epochs: 30, batchSize: 32)
        let state = trainer.model.stateDict()
        #expect(abs(state["0.weight"]!.item - 0.7) <= 0.01)
        #expect(abs(state["0.bias"]!.item - 0.3) <= 0.01)
        #expect(try Evaluator.evaluate(trainer.model, on: split.test, loss: MSELoss()).r2! > 0.99)
    }

    /// The CNN recipe (issue 10): per-pixel standardization, the README's DigitsCNN without its
    /// residual block and batch norm, Adam(1e-3), batch 32, 30 epochs, 4 workers. PyTorch 2.15 on
    /// the same splits (`recipe_accuracy.py digits.csv --model cnn --seeds 5`): 0.985 mean over
    /// splits 0…4 (0.969–0.994 each).
    @Test func digitsCNN() throws {
        let data = try Dataset.readCSV(at: fixture("digits.csv"))
        var total: Float = 0
        for seed in 0..<5 as Range<UInt64> {
            let split = try data.split(testFraction: 0.2, seed: seed)
            let scaler = Standardizer(fitting: split.train.features)
            let train = try scaler.transform(split.train).reshapedSamples(to: [1, 8, 8])
            let test = try scaler.transform(split.test).reshapedSamples(to: [1, 8, 8])
            let trainer = try DataParallelTrainer(workers: 4, topology: flatTopology(), model: {
                Sequential {
                    Conv2d(1, 16, kernel: 3, padding: 1); ReLU(); MaxPool2d(2)
                    Conv2d(16, 32, kernel: 3, padding: 1); ReLU(); MaxPool2d(2)
                    Flatten(); Linear(128, 10)
                }
            }, seed: seed, loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
            try trainer.fit(train, epochs: 30, batchSize: 32, seed: seed)
            total += try Evaluator.evaluate(trainer.model, on: test, loss: CrossEntropyLoss()).accuracy!
        }
        let accuracy = total / 5
        print("digits CNN, 4 workers: mean accuracy \(accuracy)")
        #expect(accuracy >= 0.975, "mean accuracy \(accuracy); PyTorch's recipe 0.985")
    }
}
