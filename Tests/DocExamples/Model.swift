// The ```swift examples of the doc comments in Model/ (pillar 2), compiled here in a context that gives
// them the names they use (`DocExampleTests` checks that each example's lines appear in this
// folder verbatim). Compiled, never run: several write files, which is the example's point.
import Foundation
import Lockstep
import LockstepBenchmarks

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

// Model/Convolutional.swift
func conv2dExample(x: Variable) {
let conv = Conv2d(1, 16, kernel: 3, padding: 1)
let y = conv(x)                 // x: [32, 1, 8, 8] → y: [32, 16, 8, 8]
_ = y
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

// Model/Embedding.swift
func embeddingExample(ids: Variable) {
let tokens = Embedding(256, 128)          // a byte vocabulary
let x = tokens(ids)                       // ids: [32, 64] → x: [32, 64, 128]
_ = x
}

// Model/MultiheadAttention.swift
func multiheadAttentionExample(x: Variable) {
let attn = MultiheadAttention(128, heads: 4, causal: true)
let y = attn(x)                          // x: [32, 64, 128] → y: [32, 64, 128]
_ = y
}

// Model/TransformerBlock.swift
func transformerBlockExample(x: Variable, tokens: Embedding, ids: Variable) {
let block = TransformerBlock(128, heads: 4, hidden: 512, causal: true)
let h = block(x)                         // x: [32, 64, 128] → h: [32, 64, 128]
_ = h
let positions = PositionalEmbedding(64, 128)
let x = positions(tokens(ids))           // ids [32, 64] → [32, 64, 128]
_ = x
}
