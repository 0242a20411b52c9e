import Foundation
import Testing
@testable import Lockstep
@testable import LockstepBenchmarks

/// A saved model read from Python: tensor names and shapes of the torch `nn.Sequential`, and a
/// numpy forward pass over the stored weights and standardization that gives Lockstep's outputs
/// to 1e-5 (and the torch loader in python/, where torch is installed). Needs python3 with numpy
/// and safetensors, which `make test` installs; `LOCKSTEP_PYTHON` names another interpreter (CI's
/// pytorch stage passes one with torch, and `LOCKSTEP_REQUIRE_TORCH=1` so that its absence fails).
@Suite struct PythonInterop {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: [
        ModelSpec.mlp(inputs: 4, hidden: [16, 8], outputs: 3),
        ModelSpec(layers: [.linear(inFeatures: 4, outFeatures: 8, bias: true), .gelu, .layerNorm(features: 8, eps: 1e-5),
                           .dropout(0.1), .linear(inFeatures: 8, outFeatures: 6, bias: false), .tanh,
                           .linear(inFeatures: 6, outFeatures: 3, bias: true), .sigmoid]),
    ])
    func pythonReadsTheModelAndReproducesItsOutputs(spec: ModelSpec) throws {
        try roundTrip(spec, try Dataset.readCSV(at: fixture("iris.csv")))
    }

    /// A convolutional model on digits as 1 × 8 × 8 images: the file's rows are flat pixels, which
    /// the model (and the Python loader) reshape to its `input_shape`.
    @Test func pythonReadsAConvolutionalModel() throws {
        let spec = ModelSpec(layers: [
            .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true), .relu,
            .maxPool2d(kernel: 2, stride: 2),
            .conv2d(inChannels: 4, outChannels: 6, kernel: 3, stride: 1, padding: 1, dilation: 2, groups: 2, bias: false),
            .avgPool2d(kernel: 2, stride: 1), .dropout2d(0.1), .identity, .flatten,
            .linear(inFeatures: 6 * 1 * 1, outFeatures: 10, bias: true)], inputShape: [1, 8, 8])
        try spec.validate()
        try roundTrip(spec, try Dataset.readCSV(at: fixture("digits.csv")))
    }

    /// Batch norm (its running statistics and batch count in the file) and a 1-D convolution.
    @Test func pythonReadsBatchNormAndConv1dModels() throws {
        let images = ModelSpec(layers: [
            .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: false),
            .batchNorm2d(features: 4, eps: 1e-5, momentum: 0.1), .relu, .maxPool2d(kernel: 2, stride: 2), .flatten,
            .linear(inFeatures: 64, outFeatures: 10, bias: true)], inputShape: [1, 8, 8])
        try roundTrip(images, try Dataset.readCSV(at: fixture("digits.csv")))
        let sequence = ModelSpec(layers: [
            .conv1d(inChannels: 1, outChannels: 3, kernel: 2, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true),
            .batchNorm1d(features: 3, eps: 1e-3, momentum: 0.2), .gelu, .flatten, .linear(inFeatures: 15, outFeatures: 8, bias: true),
            .batchNorm1d(features: 8, eps: 1e-5, momentum: 0.1), .relu, .linear(inFeatures: 8, outFeatures: 3, bias: true)],
            inputShape: [1, 4])
        try roundTrip(sequence, try Dataset.readCSV(at: fixture("iris.csv")))
    }

    /// An embedding of the digits' pixel values (whole numbers 0…16, not standardized: ids).
    @Test func pythonReadsAnEmbeddingModel() throws {
        let spec = ModelSpec(layers: [.embedding(count: 17, dim: 3), .layerNorm(features: 3, eps: 1e-5), .flatten,
                                      .linear(inFeatures: 192, outFeatures: 10, bias: true)], inputShape: [64])
        try roundTrip(spec, try Dataset.readCSV(at: fixture("digits.csv")), standardize: false)
    }

    static let torchAvailable = (try? python(["-c", "import torch"]).status == 0) ?? false

    /// The README's DigitsCNN (the test's copy of its classes) loads into its PyTorch twin,
    /// python/digits_cnn_twin.py, and gives its outputs. Needs torch: CI's pytorch stage runs it.
    @Test(.enabled(if: torchAvailable, "needs torch (CI's pytorch stage: Scripts/pytorch-checks.sh)"))
    func aModuleOfOwnLoadsIntoItsPyTorchTwin() throws {
        let digits = try Dataset.readCSV(at: fixture("digits.csv"))
        let scaler = Standardizer(fitting: digits.features)
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { DigitsCNN() }, loss: CrossEntropyLoss(),
                                              optimizer: .adam(lr: 1e-3))
        try trainer.fit(try scaler.transform(digits).reshapedSamples(to: [1, 8, 8]), epochs: 2, batchSize: 32)
        let dir = try temporaryDirectory()
        let model = dir.appendingPathComponent("digits-cnn.safetensors").path
        try trainer.model.save(to: model)
        let rows = scaler.transform(digits.features.gatherRows(Array(stride(from: 0, to: 1797, by: 5))))
        let outputs = try Evaluator.predict(trainer.model, rows.reshaped(Shape(rows.shape[0], 1, 8, 8)))
        try csvRows(rows).write(to: dir.appendingPathComponent("features.csv"), atomically: true, encoding: .utf8)
        try csvRows(outputs).write(to: dir.appendingPathComponent("outputs.csv"), atomically: true, encoding: .utf8)
        let result = try Self.python([Self.repository.appendingPathComponent("python/digits_cnn_twin.py").path, model,
                                      dir.appendingPathComponent("features.csv").path, dir.appendingPathComponent("outputs.csv").path])
        #expect(result.status == 0 && result.output.contains("ok twin outputs"), "\(result.output)")
    }

    /// Examples/ByteLM's transformer, with every parameter drawn at random, loads strictly into
    /// python/byte_lm_twin.py's ByteGPT (nn.MultiheadAttention, causal mask) and gives the same
    /// validation loss on the text fixture. Needs torch: CI's pytorch stage runs it.
    @Test(.enabled(if: torchAvailable, "needs torch (CI's pytorch stage: Scripts/pytorch-checks.sh)"))
    func theByteLevelTransformerLoadsIntoItsPyTorchTwin() throws {
        let model = Sequential(root: ByteGPT(), seed: 4)
        var generator = RandomGenerator(seed: 5)
        for (_, parameter) in model.namedParameters { parameter.fillUniform(bound: 0.2, using: &generator) }
        let text = try TokenWindows.readBytes(at: fixture("genesis-exodus.txt"))
        let validation = try TokenWindows(Array(text[(text.count * 9 / 10)...]), context: 64, offsets: .strided(64))
        let loss = try Evaluator.meanLoss(model, on: validation, loss: CrossEntropyLoss())
        let file = try temporaryDirectory().appendingPathComponent("byte-lm.safetensors").path
        try model.save(to: file)
        let result = try Self.python([Self.repository.appendingPathComponent("python/byte_lm_twin.py").path, "evaluate", file,
                                      fixture("genesis-exodus.txt")])
        let twin = result.output.split(separator: "\n").last.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        #expect(result.status == 0 && twin != nil, "\(result.output)")
        #expect(abs(Double(loss) - (twin ?? 0)) <= 1e-5 * Double(loss), "Lockstep \(loss), PyTorch \(result.output)")
    }

    /// Runs the tests' Python (`LOCKSTEP_PYTHON`, or python3) with `arguments`.
    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ProcessInfo.processInfo.environment["LOCKSTEP_PYTHON"] ?? "python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func roundTrip(_ spec: ModelSpec, _ data: Dataset, standardize: Bool = true) throws {
        let scaler = standardize ? Standardizer(fitting: data.features) : nil
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: spec, loss: CrossEntropyLoss(),
                                              optimizer: .adam(lr: 1e-2))
        try trainer.fit(scaler.map { $0.transform(data) } ?? data, epochs: 3, batchSize: 16)
        let saved = SavedModel(model: trainer.model, document: ModelDocument(
            spec: spec, task: .classification, featureNames: data.featureNames, targetName: data.targetName,
            standardization: scaler, classLabels: data.classLabels))
        let dir = try temporaryDirectory()
        let model = dir.appendingPathComponent("iris.safetensors").path
        try saved.save(to: model)
        let rows = data.features.gatherRows(Array(stride(from: 0, to: 150, by: 7)))   // flat rows, as a CSV holds them
        let outputs = try saved.predict(rows)
        try csvRows(rows).write(to: dir.appendingPathComponent("features.csv"), atomically: true, encoding: .utf8)
        try csvRows(outputs).write(to: dir.appendingPathComponent("outputs.csv"), atomically: true, encoding: .utf8)

        let (status, output) = try Self.python([Self.repository.appendingPathComponent("python/check_interop.py").path, model,
                                                dir.appendingPathComponent("features.csv").path, dir.appendingPathComponent("outputs.csv").path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok numpy forward"), "\(output)")
    }
}
