import Lockstep

// Iris on 4 worker threads: each holds a replica, gradients are summed in a fixed order,
// every replica ends each step identical.
let iris = try Dataset.readCSV(at: CommandLine.arguments.dropFirst().first ?? "iris.csv")
let split = try iris.split(testFraction: 0.2, validationFraction: 0.1, seed: 0)
let scaler = Standardizer(fitting: split.train.features)

let trainer = try DataParallelTrainer(
    workers: 4,
    model: .mlp(inputs: iris.featureCount, hidden: [64], outputs: iris.outputCount),
    loss: CrossEntropyLoss(),
    optimizer: .adam(lr: 1e-3))

var options = FitOptions(epochs: 100, batchSize: 32, seed: 0)
options.validation = scaler.transform(split.validation!)
options.earlyStopping = EarlyStopping(metric: .validationLoss, patience: 20)
options.checkpoints = CheckpointPolicy(directory: "iris-checkpoints", everyEpochs: 10)

let result = try trainer.fit(scaler.transform(split.train), options) { event in
    if case let .epochEnded(report) = event, (report.epoch + 1) % 20 == 0 {
        print("epoch \(report.epoch + 1): train loss \(report.trainLoss), validation \(report.validation!)")
    }
}
let test = try Evaluator.evaluate(trainer.model, on: scaler.transform(split.test), loss: CrossEntropyLoss())
print("\(result.steps) steps on \(trainer.workerCount) workers · test \(test)")
