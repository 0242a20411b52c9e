// Every ```swift example of the library's doc comments, compiled here in a context that gives it
// the names it uses (`DocExampleTests` checks that each example's lines appear here verbatim).
// The functions are compiled, never run: several write files, which is the example's point.
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

// Support/SHA256.swift
func sha256Example() {
var hash = SHA256()
hash.update(Array("abc".utf8))
hash.hexDigest()   // "ba7816bf…f20015ad"
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

// Model/Linear.swift
func linearExample(x: Variable) {
let layer = Linear(4, 3)
let y = layer(x)                 // x: [32, 4] → y: [32, 3]
_ = y
}

// Model/ModelSpec.swift
func modelSpecExample() {
let spec = ModelSpec.mlp(inputs: 4, hidden: [64], outputs: 3)
let model = spec.build(seed: 0)   // Sequential(Linear(4→64), ReLU, Linear(64→3))
_ = model
}

// Model/Module.swift
func moduleExample() {
final class Residual: Module {
    let fc1 = Linear(8, 8), fc2 = Linear(8, 8)
    var children: [(name: String, module: any Module)] { [("fc1", fc1), ("fc2", fc2)] }
    func forward(_ x: Variable) -> Variable { x + fc2(fc1(x).relu()) }
}
Residual().namedParameters.map(\.name)   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
}

// Model/Sequential.swift
func sequentialExample(tape: Tape, batch: Tensor) {
let model = Sequential(seed: 42) {
    Linear(4, 64)
    ReLU()
    Linear(64, 3)
}
let logits = model(tape.input(batch))
model.stateDict()["0.weight"]!.shape     // [64, 4]
_ = logits
}

// Autograd/GradientCheck.swift
func gradientCheckExample() {
let result = GradientCheck.run(checking: [Tensor([[0.3, -0.7]])]) { x, _ in x[0].tanh().sum() }
result.maxError <= 1e-3                 // |analytic − numeric| / (1 + |numeric|)
}

// Autograd/Tape.swift
func tapeExample(weight: Parameter) {
let tape = Tape()
let x = tape.input(Tensor([[1, 2]]))
let w = tape.parameter(weight)             // a leaf that requires a gradient
let loss = x.matmul(w, transposeB: true).sum()
loss.backward()                            // weight.grad now holds ∂loss/∂weight
tape.reset()                               // ready for the next step, memory kept
}

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
let launcher = ThreadLauncher(ranks: 4)
try launcher.run { rank, communicator in
    try communicator.reduceScatter(gradients[rank].buffer)   // gradients: [AlignedBuffer], one per rank
}
}

// Parallel/ThreadCommunicator.swift
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

// Data/CSVReader.swift
func csvRowsExample(doc: ModelDocument) throws {
let (x, y) = try Dataset.readCSV(at: "new.csv", featureNames: doc.featureNames, targetName: doc.targetName,
                                 task: doc.task, classLabels: doc.classLabels)
_ = (x, y)
}

// Data/DataFiles.swift (read)
func readExample() throws {
let data = try Dataset.read(at: "iris.csv")                  // target: the last column
let houses = try Dataset.read(at: "houses.csv", target: "price", task: .regression)
_ = (data, houses)
}

// Data/DataFiles.swift (readRows)
func readRowsExample(doc: ModelDocument) throws {
let (x, y) = try Dataset.readRows(at: "new.npy", featureNames: doc.featureNames, targetName: doc.targetName,
                                  task: doc.task, classLabels: doc.classLabels)
_ = (x, y)
}

// Data/Dataset.swift
func datasetExample() throws {
let iris = try Dataset.readCSV(at: "iris.csv")            // target: the last column
let split = try iris.split(testFraction: 0.2, seed: 0)     // 120 train / 30 test
_ = split
}

// Data/Sharder.swift
func sharderExample() throws {
let sharder = try Sharder(rows: 150, batchSize: 32, workers: 4, seed: 0)
sharder.stepsPerEpoch                       // 5 (the last batch has 22 rows)
sharder.shard(of: 0..<32, worker: 1)        // 8..<16
}

// Data/Split.swift
func splitExample(iris: Dataset) throws {
let split = try iris.split(testFraction: 0.2, seed: 0)   // train 120, test 30
_ = split
}

// Data/Standardizer.swift
func standardizerExample(split: DataSplit) {
let scaler = Standardizer(fitting: split.train.features)
let train = scaler.transform(split.train)
let test = scaler.transform(split.test)    // the train statistics, never the test's
_ = (train, test)
}

// Persistence/AtomicFile.swift
func atomicFileExample() throws {
try AtomicFile.write(Data("hello\n".utf8), to: "notes.txt")
}

// Persistence/FileIdentity.swift
func fileIdentityExample() throws {
try FileIdentity.checkDistinct(inputs: [("--data", "d.csv")], outputs: [("--save", "d.csv")])
// throws: --save d.csv is the input file --data d.csv; choose another name
}

// Persistence/ModelDocument+Rows.swift
func labeledRowsExample() throws {
let rows = try SavedModel.load(from: "model.safetensors").document.readLabeledRows(at: "new.csv")
_ = rows
}

// Persistence/ModelFile.swift
func savedModelExample(trainer: DataParallelTrainer, document: ModelDocument, newRows: Tensor) throws {
try SavedModel(model: trainer.model, document: document).save(to: "model.safetensors")
let loaded = try SavedModel.load(from: "model.safetensors")
try loaded.predictions(for: newRows)     // ["setosa", "virginica", …] or values
}

// Persistence/SafeTensors.swift
func safeTensorsExample() throws {
var file = SafeTensors(metadata: ["format": "pt"])
file.append("0.weight", Tensor([[1, 2]]))
try file.write(to: "model.safetensors")
let back = try SafeTensors.read(at: "model.safetensors")
try back.tensor("0.weight")                 // [[1, 2]]
}

// Tensor/RandomGenerator.swift
func randomExample() {
var rng = RandomGenerator(seed: 42)
let u = rng.nextUniform()            // [0, 1)
let z = rng.nextNormal()             // N(0, 1)
let i = Int.random(in: 0..<10, using: &rng)
_ = (u, z, i)
}

// Tensor/Shape.swift
func shapeExample() {
let s = Shape(32, 4)      // a batch of 32 rows with 4 features
s.count                   // 128
}

// Tensor/Tensor.swift
func tensorExample() {
let x = Tensor([[1, 2], [3, 4]])           // shape [2, 2]
let w = Tensor([0.5, -1], shape: Shape(1, 2))
let y = x.matmul(w, transposeB: true)      // [2, 1]: x · wᵀ
y.scalars                                   // [-1.5, -2.5]
}

// Tensor/TensorMath.swift
func tensorMathExample(x: Tensor, w: Tensor) {
let y = x.matmul(w, transposeB: true)   // x [b, in] · wᵀ, w [out, in] → [b, out]
_ = y
}

// LockstepBenchmarks/ScalingBenchmark.swift
func scalingBenchmarkExample() throws {
let results = try ScalingBenchmark.run(.named("mlp-mnist")!, workers: [1, 2, 4, 8])
_ = results
}

// Training/StopToken.swift
func stopTokenExample(trainer: DataParallelTrainer, train: Dataset, options: inout FitOptions) throws {
let token = StopToken()
options.stopToken = token
Task { try await Task.sleep(for: .seconds(60)); token.stop() }   // a time limit
let result = try trainer.fit(train, options)                     // result.stopped after a minute
_ = result
}

// Persistence/SavedModel+Snapshot.swift
func savedSnapshotExample(trainer: DataParallelTrainer, iris: Dataset, scaler: Standardizer) throws {
let saved = try SavedModel(trainer.snapshot(), describing: iris, standardization: scaler)
try saved.save(to: "iris.safetensors")
}

// Data/Dataset+Arrays.swift (labels)
func arraysLabelsExample() throws {
let data = try Dataset(features: [[5.1, 3.5], [6.2, 2.9], [5.9, 3.0]], labels: ["setosa", "virginica", "versicolor"])
data.classLabels     // ["setosa", "versicolor", "virginica"]
}

// Data/Dataset+Arrays.swift (targets)
func arraysTargetsExample() throws {
let data = try Dataset(features: [[1], [2], [3]], targets: [1.9, 4.1, 6.0])
_ = data
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

// Model/Convolutional.swift
func conv2dExample(x: Variable) {
let conv = Conv2d(1, 16, kernel: 3, padding: 1)
let y = conv(x)                 // x: [32, 1, 8, 8] → y: [32, 16, 8, 8]
_ = y
}

// Persistence/ModelSpec+File.swift
func modelSpecFileExample() throws {
let spec = try ModelSpec.read(at: "cnn.json")
_ = spec
}

// Model/BatchNorm.swift
func batchNormExample() {
let model = Sequential { Linear(8, 32); BatchNorm1d(32); ReLU(); Linear(32, 3) }
_ = model
}

// Model/Module.swift (stateDict)
func stateDictExample(model: Sequential) {
let state = model.stateDict()
state["0.weight"]!.shape        // [64, 4]
}

// Model/Sequential.swift (root)
final class Net: Module {
    let conv1 = Conv2d(1, 4, kernel: 3)
    var children: [(name: String, module: any Module)] { [("conv1", conv1)] }
    func forward(_ x: Variable) -> Variable { conv1(x) }
}
func rootExample() {
let model = Sequential(root: Net())
model.namedParameters.first!.name     // "conv1.weight"
}

// Persistence/Module+File.swift
func moduleFileExample(trainer: DataParallelTrainer) throws {
try trainer.model.save(to: "net.safetensors")
let net = Net()
try net.load(from: "net.safetensors")   // strict: missing, extra or mis-shaped tensors are named
}

// Autograd/Ops+Shape.swift
func concatenateExample(left: Variable, right: Variable) {
let joined = left.concatenated(with: right, axis: 1)   // channels of both branches
_ = joined
}

// Data/Dataset.swift (reshapedSamples)
func reshapedSamplesExample(digits: Dataset) throws {
let images = try digits.reshapedSamples(to: [1, 8, 8])   // features [rows, 1, 8, 8]
_ = images
}

// Data/DataSource.swift
struct Windows: DataSource {             // every window of 16 values, predicting the next one
    let series: [Float]
    var count: Int { series.count - 16 }
    var sampleShape: Shape { Shape(1, 16) }  // [channels, length], for a Conv1d
    var targetShape: Shape { Shape(1) }
    var task: LearningTask { .regression }
    func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>,
                targets: UnsafeMutablePointer<Float>) {
        for (i, row) in rows.enumerated() {
            for t in 0..<16 { features[i * 16 + t] = series[row + t] }
            targets[i] = series[row + 16]
        }
    }
    func fingerprint() -> DataFingerprint { DataFingerprint(sha256: "…", description: "windows of 16") }
}

// Data/NPYReader.swift
func readNPYExample() throws {
let images = try Dataset.readNPY(features: "x.npy", targets: "y.npy")   // x: [N, 1, 28, 28], y: [N]
_ = images
}

// Objective/Loss.swift (CustomLoss)
func customLossExample(weights: Tensor) {
let weighted = CustomLoss(name: "weighted-mse") { output, target, divisor in
    let error = output - target
    return (error * error * output.tape.input(weights)).sum() * (1 / divisor)   // weights: [1, outputs]
}
_ = weighted
}

// Model/Embedding.swift
func embeddingExample(ids: Variable) {
let tokens = Embedding(256, 128)          // a byte vocabulary
let x = tokens(ids)                       // ids: [32, 64] → x: [32, 64, 128]
_ = x
}
