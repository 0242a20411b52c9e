/// A lookup table of learned vectors, one per id (PyTorch's `nn.Embedding`): integer ids (as
/// Floats, whole numbers in 0..<count) → their rows of `weight` [count, dim], initialized
/// N(0, 1) as PyTorch does. Token and class ids go into a network this way.
///
/// Shape: ids [N] or [N, T] → [N, dim] or [N, T, dim].
///
/// ```swift
/// let tokens = Embedding(256, 128)          // a byte vocabulary
/// let x = tokens(ids)                       // ids: [32, 64] → x: [32, 64, 128]
/// ```
public final class Embedding: BuiltinLayer {
    /// Ids the table holds, and the length of each vector.
    public let count: Int, dim: Int
    /// The vectors, [count, dim].
    public let weight: Parameter

    public init(_ count: Int, _ dim: Int) {
        precondition(count > 0 && dim > 0, "Embedding needs positive sizes")
        self.count = count
        self.dim = dim
        weight = Parameter(name: "weight", shape: Shape(count, dim))
        var generator = RandomGenerator(seed: 0)
        resetParameters(using: &generator)
    }

    public var parameters: [Parameter] { [weight] }

    public func forward(_ input: Variable) -> Variable { input.embedding(input.tape.parameter(weight)) }

    /// PyTorch's `reset_parameters`: N(0, 1).
    public func resetParameters(using generator: inout RandomGenerator) {
        for i in 0..<weight.count { weight.value[i] = generator.nextNormal() }
    }

    public var spec: LayerSpec { .embedding(count: count, dim: dim) }
}
