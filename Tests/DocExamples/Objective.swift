// The ```swift examples of the doc comments in Objective/ and Evaluation/ (pillars 3 and 5), compiled here in a context that gives
// them the names they use (`DocExampleTests` checks that each example's lines appear in this
// folder verbatim). Compiled, never run: several write files, which is the example's point.
import Foundation
import Lockstep
import LockstepBenchmarks

// Evaluation/Evaluator.swift
func evaluatorExample(model: Sequential, split: DataSplit) throws {
let metrics = try Evaluator.evaluate(model, on: split.test, loss: CrossEntropyLoss())
print(metrics.accuracy!)     // fraction of rows whose largest logit is the true class
}

// Evaluation/TrainedModel.swift
func trainedModelExample(trainer: DataParallelTrainer, rows: Tensor, train: Dataset, moreEpochs: FitOptions) async throws {
let snapshot = trainer.snapshot()
Task.detached { print(try snapshot.predict(rows)) }    // rows: [n, features]
try await trainer.fit(train, moreEpochs)           // the snapshot keeps its weights
}

// Objective/Adam.swift
func adamExample(model: Sequential) {
let optimizer = Adam(model, lr: 1e-3)
let decoupled = Adam.adamW(model, lr: 1e-3, weightDecay: 0.01)
_ = (optimizer, decoupled)
}

// Objective/LRSchedule.swift
func scheduleExample(optimizer: any Optimizer) {
let schedule = LRSchedule(base: 0.1, kind: .cosine(totalSteps: 1000, minimum: 0), warmupSteps: 50)
optimizer.learningRate = schedule.learningRate(atStep: optimizer.stepCount)
}

// Objective/Loss.swift
func lossExample(model: Sequential, x: Variable, y: Variable) {
let lossFunction = CrossEntropyLoss()
let loss = lossFunction(model(x), y)   // y: class indices [batch]
loss.backward()
}

// Objective/LossSpec.swift
func lossSpecExample(data: Dataset) throws {
let spec = LossSpec(rawValue: "cross-entropy")!    // or .default(for: data.task)
try spec.check(task: data.task, targetName: data.targetName)
let loss = spec.make()                              // CrossEntropyLoss()
_ = loss
}

// Objective/Optimizer.swift
func optimizerExample(model: Sequential, loss: Variable) {
let optimizer = SGD(model, lr: 0.01, momentum: 0.9)
optimizer.zeroGrad()
loss.backward()
optimizer.step()
}

// Objective/SGD.swift
func sgdExample(model: Sequential) {
let optimizer = SGD(model, lr: 0.01, momentum: 0.9)
_ = optimizer
}

// Objective/Loss.swift (CustomLoss)
func customLossExample(weights: Tensor) {
let weighted = CustomLoss(name: "weighted-mse") { output, target, divisor in
    let error = output - target
    return (error * error * output.tape.input(weights)).sum() * (1 / divisor)   // weights: [1, outputs]
}
_ = weighted
}
