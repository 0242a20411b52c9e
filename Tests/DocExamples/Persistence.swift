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
