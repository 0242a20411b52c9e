// The ```swift examples of the doc comments in Persistence/ (pillar 6), compiled here in a context that gives
// them the names they use (`DocExampleTests` checks that each example's lines appear in this
// folder verbatim). Compiled, never run: several write files, which is the example's point.
import Foundation
import Lockstep
import LockstepBenchmarks

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

// Persistence/SavedModel+Snapshot.swift
func savedSnapshotExample(trainer: DataParallelTrainer, iris: Dataset, scaler: Standardizer) throws {
let saved = try SavedModel(trainer.snapshot(), describing: iris, standardization: scaler)
try saved.save(to: "iris.safetensors")
}

// Persistence/ModelSpec+File.swift
func modelSpecFileExample() throws {
let spec = try ModelSpec.read(at: "cnn.json")
_ = spec
}

// Persistence/Module+File.swift
func moduleFileExample(trainer: DataParallelTrainer) throws {
try trainer.model.save(to: "net.safetensors")
let net = Net()
try net.load(from: "net.safetensors")   // strict: missing, extra or mis-shaped tensors are named
}

// Persistence/ONNX/ProtobufWriter.swift
func protobufWriterExample() {
var w = ProtobufWriter()
w.field(1, int: 8)            // ir_version: 8
w.field(2, string: "lockstep")
w.bytes                       // [0x08, 0x08, 0x12, 0x08, …]
}

// Persistence/ONNX/ONNXGraph.swift (Residual: Training.swift's)
extension Residual: ONNXExportable {   // forward: x + fc2(relu(fc1(x)))
    func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let h = try graph.export(fc1, x, prefix: prefix + "fc1.")
        let y = try graph.export(fc2, graph.add("Relu", [h]), prefix: prefix + "fc2.")
        return graph.add("Add", [x, y])
    }
}

// Persistence/ONNX/SavedModel+ONNX.swift
func onnxExportExample() throws {
let saved = try SavedModel.load(from: "iris.safetensors")
try saved.exportONNX(to: "iris.onnx")
}

func moduleONNXExample() throws {
let bytes = try Sequential(root: Residual(4)).onnx(sampleShape: [4])   // [N, 4] → [N, 4]
_ = bytes
}
