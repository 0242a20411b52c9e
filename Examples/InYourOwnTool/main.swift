import Foundation
import Lockstep

// Training inside a tool: progress reported to an actor, a time limit that cancels the training
// from another task, and a snapshot of the trained weights saved and loaded back for prediction.
actor Progress {
    private var last: (epoch: Int, loss: Float)?
    func record(epoch: Int, loss: Float) { last = (epoch, loss) }
    var summary: String { last.map { "epoch \($0.epoch + 1), train loss \($0.loss)" } ?? "no epoch yet" }
}

let iris = try Dataset.read(at: CommandLine.arguments.dropFirst().first ?? "iris.csv")
let split = try iris.split(testFraction: 0.2, validationFraction: 0.1, seed: 0)
let scaler = Standardizer(fitting: split.train.features)
let trainer = try DataParallelTrainer(
    workers: 2, model: .mlp(inputs: iris.featureCount, hidden: [32], outputs: iris.outputCount),
    loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2))

var options = FitOptions(epochs: 500, batchSize: 16)
options.validation = scaler.transform(split.validation!)
options.earlyStopping = EarlyStopping(metric: .validationLoss, patience: 20)
options.keepBest = true
options.restoreBest = true   // end with the weights of the best validation loss
let settings = options
let train = scaler.transform(split.train)

let progress = Progress()
let training = Task {
    try await trainer.fit(train, settings) { event in
        if case let .epochEnded(report) = event {
            Task { await progress.record(epoch: report.epoch, loss: report.trainLoss) }
        }
    }
}
let limit = Task {   // another part of the tool: cancelling the task stops the fit after a step
    try await Task.sleep(for: .seconds(60))
    training.cancel()
}
let result = try await training.value
limit.cancel()
print("\(result.earlyStopped ? "stopped early" : result.stopped ? "cancelled" : "done"): \(await progress.summary)")

// A snapshot is a Sendable value: it can go to another task while the trainer trains on.
let snapshot = trainer.snapshot()
let path = FileManager.default.temporaryDirectory.appendingPathComponent("iris-\(getpid()).safetensors").path
try SavedModel(snapshot, describing: iris, standardization: scaler).save(to: path)
let loaded = try SavedModel.load(from: path)
let predicted = try loaded.predictions(for: split.test.features)   // raw rows: the file scales them
let truth = split.test.targets.scalars.map { iris.classLabels[Int($0)] }
let correct = zip(predicted, truth).filter { $0 == $1 }.count
print("test accuracy \(correct)/\(truth.count) from the saved model")
try FileManager.default.removeItem(atPath: path)
