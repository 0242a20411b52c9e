/// The kinds of operation a ``Tape`` records. Each is a value, not a closure: backward is one
/// `switch` over these (see `Backward.swift`).
@usableFromInline enum Op: UInt8 {
    case matmul          // a · b, transposes in `flag` (bit 0: a, bit 1: b)
    case linear          // a · bᵀ + c (input, weight [out, in], bias [out]): the fused Linear
    case add             // a + b, broadcast in `flag`
    case sub             // a − b, broadcast in `flag`
    case mul             // a ⊙ b, broadcast in `flag`
    case scale           // a · scalar
    case relu, tanh, sigmoid, gelu
    case softmax         // along the axis in `flag`
    case logSoftmax      // along the axis in `flag`
    case dropout         // a ⊙ mask; mask in `saved`
    case layerNorm       // rows of a normalized, · b + c; mean and 1/std per row in `saved`
    case sum, mean       // all elements → scalar
    case mse, l1, huber  // Σ rows (mean over columns of (a−b)²…) ÷ scalar divisor; huber δ in `extra`
    case crossEntropy    // a logits [B, C], b class indices [B]; softmax in `saved`
    case bceWithLogits   // a logits, b targets in [0, 1]
    case conv2d          // a input [N, C, H, W], b weight [O, C/groups, K, K], c bias [O]; window in `flag` (conv1d: planes of one row)
    case maxPool2d       // a input [N, C, H, W]; window in `flag`; the argmax of each output in `saved`
    case reshape         // a, its elements in the same order under another shape
    case concatenate     // a and b side by side along the axis in `flag`
    case permute         // a's dimensions reordered: the order in `flag`, 2 bits per dimension
    case avgPool2d       // a input [N, C, H, W]; window in `flag` (the whole plane: adaptive 1×1)
    case embedding       // a ids (whole Floats), b weight [V, D]: rows of b picked by a
    case batchedMatmul   // a [B, m, k] · b [B, k, n] per batch, transposes in `flag` as matmul's
    case attention       // a packed q, k, v [N, T, 3D] → [N, T, D]; heads in `flag` (bit 16: causal); weights in `saved`
    case batchNorm       // a input [N, C, …], b weight [C], c bias [C]; mean and 1/std per channel in `saved`, rows in `scalar`
}

/// One recorded operation: the op, its operand and result slots on the tape, and whatever the
/// backward rule needs that the operands do not hold.
@usableFromInline struct Node {
    @usableFromInline var op: Op
    @usableFromInline var a: Int32
    @usableFromInline var b: Int32
    @usableFromInline var c: Int32
    @usableFromInline var out: Int32
    @usableFromInline var flag: Int32
    @usableFromInline var scalar: Float
    @usableFromInline var extra: Float
    @usableFromInline var saved: UnsafeMutablePointer<Float>?
}

/// What the tape knows of one value: where its data and gradient live and its shape.
@usableFromInline struct ValueRecord {
    @usableFromInline var data: UnsafeMutablePointer<Float>
    @usableFromInline var grad: UnsafeMutablePointer<Float>?
    @usableFromInline var shape: Shape
    @usableFromInline var requiresGrad: Bool
    /// The parameter a leaf views, if any (unretained: the model outlives its tape's step).
    @usableFromInline var parameter: Unmanaged<Parameter>?
}
