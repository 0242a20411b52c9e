// The ```swift examples of the doc comments in Training/ and Parallel/ (pillar 4), compiled here in a context that gives
// them the names they use (`DocExampleTests` checks that each example's lines appear in this
// folder verbatim). Compiled, never run: several write files, which is the example's point.
import Foundation
import Lockstep
import LockstepBenchmarks

// Training/DataParallelTrainer+Async.swift
func asyncFitExample(trainer: DataParallelTrainer, train: Dataset, options: FitOptions) async throws {
let (events, sink) = AsyncStream.makeStream(of: TrainingEvent.self)
let training = Task { try await trainer.fit(train, options) { sink.yield($0) } }
Task { for await event in events { if case let .epochEnded(r) = event { print(r.epoch, r.trainLoss) } } }
let result = try await training.value
sink.finish()
_ = result
}

// Training/DataParallelTrainer.swift
func trainerExample(train: Dataset, validation: Dataset) throws {
let trainer = try DataParallelTrainer(
    workers: 4, model: .mlp(inputs: 4, hidden: [64], outputs: 3),
    loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
let result = try trainer.fit(train, epochs: 100, batchSize: 32, validation: validation) { event in
    if case let .epochEnded(report) = event { print(report.epoch, report.trainLoss) }
}
let model = trainer.model       // the trained weights (every replica holds the same)
_ = (result, model)
}

// Training/FitOptions.swift (FitOptions)
func fitOptionsExample(split: DataSplit) {
var options = FitOptions(epochs: 100, batchSize: 32)
options.validation = split.validation
options.test = split.test
options.earlyStopping = EarlyStopping(metric: .validationLoss, patience: 10)
options.keepBest = true
options.checkpoints = CheckpointPolicy(directory: "runs/iris", everyEpochs: 5)
_ = options
}

// Training/FitOptions.swift (CheckpointPolicy)
func checkpointPolicyExample(options: inout FitOptions) throws {
options.checkpoints = CheckpointPolicy(directory: "runs/iris", everyEpochs: 5)   // runs/iris/run-0, run-1, …
// Continuing a run: its own folder, locked before anything else is touched.
let point = try ResumePoint.newest(in: "runs/iris")
options.resume = point.checkpoint
options.checkpoints = CheckpointPolicy(run: try RunDirectory.open(point.runDirectory!), everyEpochs: 5)
}

// Training/Checkpoint/ResumePoint.swift
func resumePointExample(options: inout FitOptions) throws {
let point = try ResumePoint.newest(in: "checkpoints")
for warning in point.warnings { print("warning:", warning) }
options.resume = point.checkpoint
}

// Training/Checkpoint/RunDirectory.swift
func runDirectoryExample(options: inout FitOptions) throws {
let run = try RunDirectory.create(in: "checkpoints")     // checkpoints/run-0, locked
options.checkpoints = CheckpointPolicy(run: run)            // or let fit make one: CheckpointPolicy(directory:)
}

// Parallel/CPULoad.swift
func cpuLoadExample() {
let topology = Topology.current().orderedByLoad()
_ = topology
}

// Parallel/Launcher.swift
func launcherExample(gradients: [AlignedBuffer]) throws {
let launcher = try ThreadLauncher(ranks: 8, threads: 2)
try launcher.run { rank, communicator in
    try communicator.reduceScatter(gradients[rank].buffer)   // gradients: [AlignedBuffer], one per rank
}
}

// Parallel/ThreadGroup.swift
func threadGroupExample(k: Int, gradients: UnsafeMutableBufferPointer<Float>) throws {
let group = ThreadGroup(size: 4)
// on thread k:
let comm = group.communicator(rank: k)
try comm.reduceScatter(gradients)   // shard k of `gradients` now holds the sum over ranks
}

// Parallel/Topology.swift
func topologyExample() {
let twoSockets = Topology(nodes: [[0, 1, 2, 3], [4, 5, 6, 7]])
twoSockets.cpus(forWorkers: 4, placement: .spread)   // [0, 4, 1, 5]
}

// Training/StopToken.swift
func stopTokenExample(trainer: DataParallelTrainer, train: Dataset, options: inout FitOptions) throws {
let token = StopToken()
options.stopToken = token
Task { try await Task.sleep(for: .seconds(60)); token.stop() }   // a time limit
let result = try trainer.fit(train, options)                     // result.stopped after a minute
_ = result
}

// Training/DataParallelTrainer+Async.swift (fitWithEvents)
func fitWithEventsExample(trainer: DataParallelTrainer, train: Dataset, options: FitOptions) async throws {
let (events, result) = trainer.fitWithEvents(train, options)
for await case let .epochEnded(report) in events { print(report.epoch + 1, report.trainLoss) }
let summary = try await result.value
_ = summary
}

/// A residual block for the examples that use one: x + fc2(relu(fc1(x))).
final class Residual: Module {
    let fc1: Linear, fc2: Linear
    init(_ width: Int) { fc1 = Linear(width, width); fc2 = Linear(width, width) }
    var children: [(name: String, module: any Module)] { [("fc1", fc1), ("fc2", fc2)] }
    func forward(_ x: Variable) -> Variable { x + fc2(fc1(x).relu()) }
}

// Training/DataParallelTrainer.swift (a model of the caller's own)
func customTrainerExample() throws {
let trainer = try DataParallelTrainer(workers: 4, model: { Sequential { Linear(8, 32); Residual(32); Linear(32, 3) } },
                                      loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
_ = trainer
}

// Training/DataParallelTrainer+State.swift
func trainerLoadExample(trainer: DataParallelTrainer) throws {
try trainer.load(from: "byte-lm.safetensors")    // then fit goes on from those weights
}

// Evaluation/Evaluator+Source.swift
func meanLossExample(trainer: DataParallelTrainer, validation: TokenWindows) throws {
let validationLoss = try Evaluator.meanLoss(trainer.model, on: validation, loss: CrossEntropyLoss())
_ = validationLoss
}

// Parallel/ProcessTransport.swift
func processTransportExample(transport: any ProcessTransport, mine: [Float], theirs: inout [Float]) throws {
try mine.withUnsafeBytes { mine in try theirs.withUnsafeMutableBytes { theirs in
// on process 0 of 2: send 4 floats to process 1, receive 4 from it
try transport.exchange(sends: [(mine, to: 1)], receives: [(theirs, from: 1)]) { false }
} }
}

// LockstepBenchmarks/CollectiveBenchmark.swift
func collectiveBenchmarkExample() throws {
let results = try CollectiveBenchmark.run(try ThreadLauncher(ranks: 2))
_ = results
}
