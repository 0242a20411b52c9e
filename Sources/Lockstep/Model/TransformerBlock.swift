/// A pre-norm transformer block, GPT-2's: x + attn(ln1(x)), then h + fc2(gelu(fc1(ln2(h)))).
/// The residual paths carry the input through unnormalized; each branch sees a normalized copy.
///
/// Shape: [N, T, D] → [N, T, D]. Children: `ln1`, `attn` (a `MultiheadAttention`), `ln2`,
/// `fc1` (D → hidden), `fc2` (hidden → D).
///
/// ```swift
/// let block = TransformerBlock(128, heads: 4, hidden: 512, causal: true)
/// let h = block(x)                         // x: [32, 64, 128] → h: [32, 64, 128]
/// ```
public final class TransformerBlock: Module {
    public let ln1: LayerNorm, attn: MultiheadAttention, ln2: LayerNorm, fc1: Linear, fc2: Linear

    /// A block over `dim`-wide positions with `heads` attention heads and a `hidden`-wide MLP
    /// (4 × `dim` by default, as in GPT-2).
    public init(_ dim: Int, heads: Int, hidden: Int? = nil, causal: Bool = true) {
        ln1 = LayerNorm(dim)
        attn = MultiheadAttention(dim, heads: heads, causal: causal)
        ln2 = LayerNorm(dim)
        fc1 = Linear(dim, hidden ?? 4 * dim)
        fc2 = Linear(hidden ?? 4 * dim, dim)
    }

    public var children: [(name: String, module: any Module)] {
        [("ln1", ln1), ("attn", attn), ("ln2", ln2), ("fc1", fc1), ("fc2", fc2)]
    }

    public func forward(_ x: Variable) -> Variable {
        let h = x + attn(ln1(x))
        return h + fc2(fc1(ln2(h)).gelu())
    }
}

/// Learned positions: a [length, dim] table added to each sequence (GPT's `wpe`, as a
/// parameter starting at zero, the initialization of `nn.Parameter(torch.zeros(length, dim))`).
/// A shorter sequence takes the first rows, for generation from a short prompt (inference only:
/// training uses whole windows).
///
/// Shape: [N, T, dim] → [N, T, dim], T ≤ length.
///
/// ```swift
/// let positions = PositionalEmbedding(64, 128)
/// let x = positions(tokens(ids))           // ids [32, 64] → [32, 64, 128]
/// ```
public final class PositionalEmbedding: Module {
    /// The longest sequence it places, and the width of each vector.
    public let length: Int, dim: Int
    /// The table, [length, dim].
    public let weight: Parameter

    public init(_ length: Int, _ dim: Int) {
        precondition(length > 0 && dim > 0, "PositionalEmbedding needs positive sizes")
        self.length = length
        self.dim = dim
        weight = Parameter(name: "weight", shape: Shape(length, dim))
    }

    public var parameters: [Parameter] { [weight] }

    public func forward(_ x: Variable) -> Variable {
        let tape = x.tape, s = x.shape
        guard s.rank == 3, s[2] == dim, s[1] <= length else {
            return tape.fail("positions of \(length) × \(dim) do not fit a sequence \(s): it takes [N, T ≤ \(length), \(dim)]")
        }
        if s[1] == length { return x + tape.parameter(weight) }
        guard tape.mode == .inference else {
            return tape.fail("positions of \(length) train on whole sequences, got \(s[1]) positions (a shorter one is for inference)")
        }
        return x + tape.leaf(data: weight.value, grad: nil, shape: Shape(s[1], dim))
    }

    public func resetParameters(using generator: inout RandomGenerator) { Kernels.fill(weight.value, weight.count, 0) }
}
