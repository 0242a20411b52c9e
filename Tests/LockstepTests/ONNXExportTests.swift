import Foundation
import Testing
@testable import Lockstep
@testable import LockstepBenchmarks

/// Pillar 6 for any runtime: a saved model as ONNX (opset 17). `onnx.checker` accepts the file and
/// ONNX Runtime (CPU) gives Lockstep's outputs on the same raw rows — norm-wise within 1e-5,
/// elementwise |a − b| ≤ 1e-5 + 1e-4·|b| — and the same classes (python/check_onnx.py, with the
/// onnx and onnxruntime that `make test` installs).
@Suite struct ONNXExport {
    @Test func theWireFormatIsProtobufs() {
        var w = ProtobufWriter()
        w.field(1, int: 300)
        w.field(2, int: -1)
        w.field(3, float: 1)
        w.field(4, string: "ab")
        w.field(5, packedInts: [1, 300])
        var inner = ProtobufWriter()
        inner.field(1, int: 7)
        w.field(6, message: inner)
        #expect(w.bytes == [0x08, 0xAC, 0x02,
                            0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                            0x1D, 0x00, 0x00, 0x80, 0x3F,
                            0x22, 0x02, 0x61, 0x62,
                            0x2A, 0x03, 0x01, 0xAC, 0x02,
                            0x32, 0x02, 0x08, 0x07])
    }

    /// Trains `spec` briefly (batch norm's running statistics move), saves it with its
    /// standardization and labels, exports it, and has ONNX Runtime predict the same rows.
    func check(_ spec: ModelSpec, _ data: Dataset, standardize: Bool = true, rows: [Int]) throws {
        let scaler = standardize ? Standardizer(fitting: data.features) : nil
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: spec, loss: CrossEntropyLoss(),
                                              optimizer: .adam(lr: 1e-2))
        try trainer.fit(scaler.map { $0.transform(data) } ?? data, epochs: 2, batchSize: 16)
        let saved = SavedModel(model: trainer.model, document: ModelDocument(
            spec: spec, task: .classification, featureNames: data.featureNames, targetName: data.targetName,
            standardization: scaler, classLabels: data.classLabels))
        let x = data.features.gatherRows(rows)
        try compare(try saved.onnx(), inputs: x, outputs: try saved.predict(x), predictions: try saved.predictions(for: x))
    }

    func compare(_ onnx: [UInt8], inputs: Tensor, outputs: Tensor, predictions: [String]? = nil) throws {
        let dir = try temporaryDirectory()
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        try Data(onnx).write(to: URL(fileURLWithPath: path("model.onnx")))
        try csvRows(inputs).write(toFile: path("inputs.csv"), atomically: true, encoding: .utf8)
        try csvRows(outputs).write(toFile: path("outputs.csv"), atomically: true, encoding: .utf8)
        var arguments = [PythonInterop.repository.appendingPathComponent("python/check_onnx.py").path,
                         path("model.onnx"), path("inputs.csv"), path("outputs.csv")]
        if let predictions {
            try predictions.map { $0 + "\n" }.joined().write(toFile: path("predictions.txt"), atomically: true, encoding: .utf8)
            arguments.append(path("predictions.txt"))
        }
        let (status, output) = try PythonInterop.python(arguments)
        #expect(status == 0 && output.contains("ok onnx opset 17"), "\(output)")
    }

    @Test func anMLPWithItsStandardizationAndProbabilities() throws {
        let spec = ModelSpec(layers: [.linear(inFeatures: 4, outFeatures: 16, bias: true), .gelu, .layerNorm(features: 16, eps: 1e-5),
                                      .dropout(0.2), .linear(inFeatures: 16, outFeatures: 8, bias: false), .tanh,
                                      .linear(inFeatures: 8, outFeatures: 3, bias: true), .sigmoid, .identity,
                                      .linear(inFeatures: 3, outFeatures: 3, bias: true)])
        try check(spec, try Dataset.readCSV(at: fixture("iris.csv")), rows: Array(0..<150))
    }

    @Test func aCNNWithBatchNormInItsInferenceForm() throws {
        let spec = ModelSpec(layers: [
            .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: false),
            .batchNorm2d(features: 4, eps: 1e-5, momentum: 0.1), .relu, .maxPool2d(kernel: 2, stride: 2),
            .conv2d(inChannels: 4, outChannels: 6, kernel: 3, stride: 1, padding: 1, dilation: 2, groups: 2, bias: true),
            .avgPool2d(kernel: 2, stride: 1), .dropout2d(0.1), .adaptiveAvgPool2d, .flatten,
            .linear(inFeatures: 6, outFeatures: 16, bias: true), .batchNorm1d(features: 16, eps: 1e-3, momentum: 0.2), .relu,
            .linear(inFeatures: 16, outFeatures: 10, bias: true)], inputShape: [1, 8, 8])
        try check(spec, try Dataset.readCSV(at: fixture("digits.csv")), rows: Array(stride(from: 0, to: 1797, by: 9)))
    }

    @Test func aConv1dAndAnEmbedding() throws {
        let sequence = ModelSpec(layers: [
            .conv1d(inChannels: 1, outChannels: 3, kernel: 2, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true),
            .batchNorm1d(features: 3, eps: 1e-3, momentum: 0.2), .gelu, .flatten, .linear(inFeatures: 15, outFeatures: 3, bias: true)],
            inputShape: [1, 4])
        try check(sequence, try Dataset.readCSV(at: fixture("iris.csv")), rows: Array(0..<150))
        let embedding = ModelSpec(layers: [.embedding(count: 17, dim: 3), .layerNorm(features: 3, eps: 1e-5), .flatten,
                                           .linear(inFeatures: 192, outFeatures: 10, bias: true)], inputShape: [64])
        try check(embedding, try Dataset.readCSV(at: fixture("digits.csv")), standardize: false, rows: Array(stride(from: 0, to: 1797, by: 9)))
    }

    /// Lockstep refuses an id that is not a whole number in 0..<count; so does the exported graph
    /// (ONNX's Cast would truncate 2.7 to 2, and Gather count −1 from the end).
    @Test func anIdTheEmbeddingRefusesFailsInONNXRuntimeToo() throws {
        let spec = ModelSpec(layers: [.embedding(count: 10, dim: 4), .flatten, .linear(inFeatures: 12, outFeatures: 2, bias: true)],
                             inputShape: [3])
        let saved = SavedModel(model: spec.build(seed: 1), document: ModelDocument(
            spec: spec, task: .classification, featureNames: ["a", "b", "c"], targetName: "y", standardization: nil, classLabels: ["0", "1"]))
        let file = try temporaryDirectory().appendingPathComponent("ids.onnx").path
        try saved.exportONNX(to: file)
        let script = """
            import sys, numpy as np, onnxruntime as ort
            s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
            s.run(None, {"features": np.array([[0, 9, 3]], np.float32)})
            for row in ([2.7, 3, 4], [-1, 0, 0], [10, 0, 0], [float("nan"), 0, 0], [1e30, 0, 0]):
                try:
                    s.run(None, {"features": np.array([row], np.float32)})
                    sys.exit(f"ONNX Runtime took the id row {row}")
                except ort.capi.onnxruntime_pybind11_state.InvalidArgument:
                    pass
            print("ok refused")
            """
        let (status, output) = try PythonInterop.python(["-c", script, file])
        #expect(status == 0 && output.contains("ok refused"), "\(output)")
        for row in [[2.7, 3, 4], [-1, 0, 0], [10, 0, 0]] as [[Float]] {
            #expect(throws: (any Error).self) { try saved.predict(Tensor(row, shape: Shape(1, 3))) }
        }
    }

    @Test func aRegressionGivesValuesInTheTargetsUnits() throws {
        let data = try Dataset.readCSV(at: fixture("diabetes.csv"))
        let features = Standardizer(fitting: data.features), target = Standardizer(fitting: data.targets)
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 10, hidden: [16], outputs: 1),
                                              loss: MSELoss(), optimizer: .adam(lr: 1e-2))
        try trainer.fit(try Dataset(features: features.transform(data.features), targets: target.transform(data.targets), task: .regression),
                        epochs: 3, batchSize: 32)
        var document = ModelDocument(spec: .mlp(inputs: 10, hidden: [16], outputs: 1), task: .regression, featureNames: data.featureNames,
                                     targetName: data.targetName, standardization: features, classLabels: [])
        document.targetStandardization = target
        let saved = SavedModel(model: trainer.model, document: document)
        let x = data.features.gatherRows(Array(0..<100))
        let outputs = try saved.predict(x)
        #expect(outputs.scalars.allSatisfy { $0 > 10 })   // disease progression, in its own units
        try compare(try saved.onnx(), inputs: x, outputs: outputs)
    }

    /// Examples/ByteLM's transformer (the benchmark's copy, which exports its children in forward's
    /// order): ids [N, 64] → logits [N, 64, 256], the causal mask built inside the graph.
    @Test func theByteLevelTransformer() throws {
        let model = Sequential(root: ByteGPT(), seed: 4)
        var generator = RandomGenerator(seed: 5)
        for (_, parameter) in model.namedParameters { parameter.fillUniform(bound: 0.2, using: &generator) }
        let text = try TokenWindows.readBytes(at: fixture("genesis-exodus.txt"))
        let ids = Tensor((0..<(3 * 64)).map { Float(text[1000 + $0]) }, shape: Shape(3, 64))
        try compare(try model.onnx(sampleShape: [64]), inputs: ids, outputs: try Evaluator.predict(model, ids))
    }

    @Test func aLayerThatCannotBeExportedIsNamed() {
        final class Opaque: Module { func forward(_ x: Variable) -> Variable { x } }
        let model = Sequential([Linear(4, 4), Opaque()], seed: 0)
        #expect { try model.onnx(sampleShape: [4]) } throws: {
            "\($0)" == "layer '1' (Opaque) cannot be exported to ONNX: it does not conform to ONNXExportable"
        }
    }
}
