/// Multi-head self-attention (PyTorch's `nn.MultiheadAttention(embedDim, heads,
/// batch_first=True)` called as `attn(x, x, x)`), optionally causal: position t attends to
/// positions ≤ t only, as with `is_causal=True` and a −∞ upper-triangular mask.
///
/// One packed projection makes Q, K and V (`in_proj_weight` [3D, D], `in_proj_bias` [3D]), the
/// heads attend side by side (`Variable.attention`, one op), and `out_proj` maps their
/// concatenation back to D — PyTorch's parameter names and layout, so a `state_dict` moves
/// either way. Initialization is PyTorch's: `in_proj_weight` xavier-uniform, biases 0,
/// `out_proj.weight` as a `Linear`'s.
///
/// Shape: [N, T, D] → [N, T, D].
///
/// ```swift
/// let attn = MultiheadAttention(128, heads: 4, causal: true)
/// let y = attn(x)                          // x: [32, 64, 128] → y: [32, 64, 128]
/// ```
public final class MultiheadAttention: Module {
    /// The width of each position's vector (D), and the heads it is split into.
    public let embedDim: Int, heads: Int
    /// Whether each position sees only itself and earlier positions.
    public let causal: Bool
    /// Q, K and V's projections stacked, [3D, D], and their biases [3D].
    public let inProjWeight: Parameter, inProjBias: Parameter
    /// The projection of the concatenated heads, D → D.
    public let outProj: Linear

    /// Attention over `embedDim`-wide vectors in `heads` heads (`embedDim` a multiple of `heads`).
    public init(_ embedDim: Int, heads: Int, causal: Bool = false) {
        precondition(embedDim > 0 && heads > 0 && embedDim % heads == 0, "MultiheadAttention needs embedDim a multiple of heads")
        self.embedDim = embedDim
        self.heads = heads
        self.causal = causal
        inProjWeight = Parameter(name: "in_proj_weight", shape: Shape(3 * embedDim, embedDim))
        inProjBias = Parameter(name: "in_proj_bias", shape: Shape(3 * embedDim))
        outProj = Linear(embedDim, embedDim)
        var generator = RandomGenerator(seed: 0)
        resetParameters(using: &generator)
    }

    public var parameters: [Parameter] { [inProjWeight, inProjBias] }
    public var children: [(name: String, module: any Module)] { [("out_proj", outProj)] }

    public func forward(_ input: Variable) -> Variable {
        let tape = input.tape
        let qkv = input.linear(weight: tape.parameter(inProjWeight), bias: tape.parameter(inProjBias))
        return outProj(qkv.attention(heads: heads, causal: causal))
    }

    /// PyTorch's `_reset_parameters`: xavier-uniform `in_proj_weight` (fan in D, fan out 3D),
    /// zero biases, `out_proj.weight` U(±1/√D).
    public func resetParameters(using generator: inout RandomGenerator) {
        inProjWeight.fillUniform(bound: (6 / Float(4 * embedDim)).squareRoot(), using: &generator)
        Kernels.fill(inProjBias.value, inProjBias.count, 0)
        outProj.resetParameters(using: &generator)
        if let bias = outProj.bias { Kernels.fill(bias.value, bias.count, 0) }
    }
}
