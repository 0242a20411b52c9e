// The sequence layers as ONNX nodes: positions, attention (a causal mask built from the sequence's
// own length, so the batch and the length stay dynamic) and the pre-norm block.

extension PositionalEmbedding: ONNXExportable {
    /// x + weight[0..<T], T the input's length.
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let weight = graph.constant(prefix + self.weight.localName, self.weight.tensor)
        let length = graph.shape(of: x, 1..<2, name: prefix + "length")
        let rows = graph.add("Slice", [weight, graph.constant(prefix + "zero", ints: [0]), length, graph.constant(prefix + "axis", ints: [0])],
                             rank: 2, name: prefix + "positions")
        return graph.add("Add", [x, rows], name: prefix + "Add")
    }
}

extension MultiheadAttention: ONNXExportable {
    /// Packed projections [N, T, 3D] → per-head Q, K, V → softmax(Q·Kᵀ/√d + mask) · V → [N, T, D]
    /// → the output projection.
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        guard x.rank == 3 else { throw ONNXExportError("layer '\(prefix.dropLast())' (MultiheadAttention) takes [N, T, D], got rank \(x.rank)") }
        let d = embedDim / heads
        let qkv = graph.linear(x, weight: inProjWeight, bias: inProjBias, prefix: prefix)
        let parts = graph.constant(prefix + "split", ints: [embedDim, embedDim, embedDim])
        let q = graph.add("Split", [qkv, parts], attributes: [("axis", .int(-1))], name: prefix + "q")
        // Split has three outputs: name them q, k, v by hand.
        let (k, v) = graph.extraOutputs(of: q, ["k", "v"].map { prefix + $0 })
        let headShape = graph.constant(prefix + "head_shape", ints: [0, 0, heads, d])
        func perHead(_ t: ONNXValue, _ perm: [Int], _ name: String) -> ONNXValue {
            let split = graph.add("Reshape", [t, headShape], rank: 4, name: prefix + name + "_heads")
            return graph.add("Transpose", [split], attributes: [("perm", .ints(perm))], name: prefix + name + "_t")
        }
        let qh = perHead(q, [0, 2, 1, 3], "q"), kh = perHead(k, [0, 2, 3, 1], "k"), vh = perHead(v, [0, 2, 1, 3], "v")
        var scores = graph.add("MatMul", [qh, kh], name: prefix + "scores")
        scores = graph.add("Mul", [scores, graph.scalar(prefix + "scale", 1 / Float(d).squareRoot())], name: prefix + "scaled")
        if causal {
            // ones [T, T] → lower triangle → 0 on and below the diagonal, −1e30 above.
            let length = graph.shape(of: x, 1..<2, name: prefix + "length")
            let square = graph.add("Concat", [length, length], attributes: [("axis", .int(0))], name: prefix + "square")
            let ones = graph.add("Expand", [graph.scalar(prefix + "one", 1), square], rank: 2, name: prefix + "ones")
            let lower = graph.add("Trilu", [ones], attributes: [("upper", .int(0))], name: prefix + "lower")
            let shifted = graph.add("Sub", [lower, graph.scalar(prefix + "one_", 1)], name: prefix + "shifted")
            let mask = graph.add("Mul", [shifted, graph.scalar(prefix + "big", 1e30)], name: prefix + "mask")
            scores = graph.add("Add", [scores, mask], rank: 4, name: prefix + "masked")
        }
        let weights = graph.add("Softmax", [scores], attributes: [("axis", .int(-1))], name: prefix + "weights")
        let attended = graph.add("MatMul", [weights, vh], name: prefix + "attended")
        let merged = graph.add("Transpose", [attended], attributes: [("perm", .ints([0, 2, 1, 3]))], name: prefix + "merged_t")
        let flat = graph.add("Reshape", [merged, graph.constant(prefix + "model_shape", ints: [0, 0, embedDim])], rank: 3, name: prefix + "merged")
        return try graph.export(outProj, flat, prefix: prefix + "out_proj.")
    }
}

extension TransformerBlock: ONNXExportable {
    /// h = x + attn(ln1(x)); h + fc2(gelu(fc1(ln2(h)))).
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let a = try graph.export(attn, try graph.export(ln1, x, prefix: prefix + "ln1."), prefix: prefix + "attn.")
        let h = graph.add("Add", [x, a], name: prefix + "residual1")
        let hidden = try graph.export(fc1, try graph.export(ln2, h, prefix: prefix + "ln2."), prefix: prefix + "fc1.")
        let m = try graph.export(fc2, try graph.export(GELU(), hidden, prefix: prefix + "gelu."), prefix: prefix + "fc2.")
        return graph.add("Add", [h, m], name: prefix + "residual2")
    }
}
