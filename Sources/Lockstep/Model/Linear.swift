/// A fully connected layer: y = x · Wᵀ + b (PyTorch's `nn.Linear`).
///
/// Shape: input [batch, inFeatures] → output [batch, outFeatures] (or [batch, T, inFeatures] →
/// [batch, T, outFeatures]: every position of a sequence); `weight` is
/// [outFeatures, inFeatures] and `bias` [outFeatures], as in PyTorch's state_dict.
/// Initialization follows PyTorch: W ~ kaiming-uniform(a = √5), i.e. U(±1/√in), and
/// b ~ U(±1/√in), drawn from Lockstep's seeded generator.
///
/// ```swift
/// let layer = Linear(4, 3)
/// let y = layer(x)                 // x: [32, 4] → y: [32, 3]
/// ```
public final class Linear: BuiltinLayer {
    /// The width of each input row.
    public let inFeatures: Int
    /// The width of each output row.
    public let outFeatures: Int
    /// W, [outFeatures, inFeatures].
    public let weight: Parameter
    /// b, [outFeatures]; nil when made with `bias: false`.
    public let bias: Parameter?

    /// A layer from `inFeatures` to `outFeatures` (both > 0), initialized from seed 0; a
    /// `Sequential` redraws it from its own seed.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear needs positive sizes")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(name: "weight", shape: Shape(outFeatures, inFeatures))
        self.bias = bias ? Parameter(name: "bias", shape: Shape(outFeatures)) : nil
        var generator = RandomGenerator(seed: 0)
        resetParameters(using: &generator)
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func forward(_ input: Variable) -> Variable {
        input.linear(weight: weight, bias: bias)
    }

    public func resetParameters(using generator: inout RandomGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight.fillUniform(bound: bound, using: &generator)
        bias?.fillUniform(bound: bound, using: &generator)
    }

    public var spec: LayerSpec { .linear(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias != nil) }
}
