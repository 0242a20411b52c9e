/// Layer normalization over the last dimension with a learned scale and shift
/// (PyTorch's `nn.LayerNorm(features)`: `weight` starts at 1, `bias` at 0).
///
/// Shape: [batch, features] → [batch, features].
public final class LayerNorm: BuiltinLayer {
    /// The size of the last dimension, over which each row is normalized.
    public let features: Int
    /// Added to the variance before its square root, for stability.
    public let eps: Float
    /// The scale γ, [features], starting at 1.
    public let weight: Parameter
    /// The shift β, [features], starting at 0.
    public let bias: Parameter

    /// Normalization of rows of `features` values, with PyTorch's default `eps` 1e-5.
    public init(_ features: Int, eps: Float = 1e-5) {
        self.features = features
        self.eps = eps
        weight = Parameter(name: "weight", shape: Shape(features))
        bias = Parameter(name: "bias", shape: Shape(features))
        var generator = RandomGenerator(seed: 0)
        resetParameters(using: &generator)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(_ input: Variable) -> Variable {
        input.layerNorm(weight: input.tape.parameter(weight), bias: input.tape.parameter(bias), eps: eps)
    }

    public func resetParameters(using generator: inout RandomGenerator) {
        Kernels.fill(weight.value, features, 1)
        Kernels.fill(bias.value, features, 0)
    }

    public var spec: LayerSpec { .layerNorm(features: features, eps: eps) }
}
