/// max(x, 0), elementwise (PyTorch's `nn.ReLU`).
public final class ReLU: BuiltinLayer {
    public init() {}
    public func forward(_ input: Variable) -> Variable { input.relu() }
    public var spec: LayerSpec { .relu }
}

/// The hyperbolic tangent, elementwise (PyTorch's `nn.Tanh`).
public final class Tanh: BuiltinLayer {
    public init() {}
    public func forward(_ input: Variable) -> Variable { input.tanh() }
    public var spec: LayerSpec { .tanh }
}

/// The logistic function, elementwise (PyTorch's `nn.Sigmoid`).
public final class Sigmoid: BuiltinLayer {
    public init() {}
    public func forward(_ input: Variable) -> Variable { input.sigmoid() }
    public var spec: LayerSpec { .sigmoid }
}

/// x·Φ(x), elementwise, the exact form (PyTorch's `nn.GELU()`).
public final class GELU: BuiltinLayer {
    public init() {}
    public func forward(_ input: Variable) -> Variable { input.gelu() }
    public var spec: LayerSpec { .gelu }
}

/// Inverted dropout with probability `p` while training; the identity on an inference tape
/// (PyTorch's `nn.Dropout`). Masks are keyed by seed, step and global row, so any number of
/// workers draws the same ones.
public final class Dropout: BuiltinLayer {
    /// The probability of zeroing an element, in [0, 1).
    public let p: Float
    /// Dropout zeroing each element with probability `p` (PyTorch's default 0.5) and scaling the
    /// others by 1/(1 − p).
    public init(_ p: Float = 0.5) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
        self.p = p
    }
    public func forward(_ input: Variable) -> Variable { input.dropout(p) }
    public var spec: LayerSpec { .dropout(p) }
}
