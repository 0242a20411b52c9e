import Lockstep

// The `transformer` workload's model: Examples/ByteLM's class, character for character (a test
// compares the two), so that the benchmark measures exactly the example's network.
final class ByteGPT: Module {
    static let context = 64
    let tok = Embedding(256, 128), pos = PositionalEmbedding(ByteGPT.context, 128)
    let blocks = [TransformerBlock(128, heads: 4, hidden: 512), TransformerBlock(128, heads: 4, hidden: 512)]
    let lnF = LayerNorm(128), head = Linear(128, 256)
    var children: [(name: String, module: any Module)] {
        [("tok", tok), ("pos", pos)] + blocks.enumerated().map { ("blocks.\($0.offset)", $0.element) } + [("ln_f", lnF), ("head", head)]
    }
    func forward(_ ids: Variable) -> Variable {   // ids [N, T] → logits [N, T, 256]
        var x = pos(tok(ids))
        for block in blocks { x = block(x) }
        return head(lnF(x))
    }
}
