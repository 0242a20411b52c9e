/// Checks backward rules against centered finite differences.
///
/// For every element x of every checked input, the numerical derivative
/// (f(x + h) − f(x − h)) / 2h is compared with the gradient backward computed. The forward pass
/// runs in Float32, so `h` must be large enough that the difference of two losses is well above
/// Float32 rounding (h = 1e-3 with losses of order 1 leaves about 1e-4 of noise).
///
/// ```swift
/// let result = GradientCheck.run(checking: [Tensor([[0.3, -0.7]])]) { x, _ in x[0].tanh().sum() }
/// result.maxError <= 1e-3                 // |analytic − numeric| / (1 + |numeric|)
/// ```
public enum GradientCheck {
    /// The outcome of a check: the largest error, where it occurred, and both derivatives there.
    public struct Result: Sendable, CustomStringConvertible {
        /// Largest |analytic − numeric| / (1 + |numeric|) over all checked elements.
        public var maxError: Float
        /// Where it occurred: input index and element.
        public var worst: (input: Int, element: Int)
        /// The derivative backward computed at the worst element.
        public var analytic: Float
        /// The finite-difference estimate at the worst element.
        public var numeric: Float
        public var description: String {
            "max error \(maxError) at input \(worst.input)[\(worst.element)]: analytic \(analytic), numeric \(numeric)"
        }
    }

    /// Runs `f` on leaves holding `checking` (which require gradients) and `constants` (which do
    /// not); `f` must return a scalar.
    public static func run(
        checking: [Tensor], constants: [Tensor] = [], h: Float = 1e-3,
        _ f: ([Variable], [Variable]) -> Variable
    ) -> Result {
        let values = checking.map { t -> AlignedBuffer in
            let b = AlignedBuffer(count: t.count)
            t.withUnsafeBufferPointer { Kernels.copy($0.baseAddress!, b.base, t.count) }
            return b
        }
        let grads = checking.map { AlignedBuffer(count: $0.count) }
        let constantValues = constants.map { t -> AlignedBuffer in
            let b = AlignedBuffer(count: t.count)
            t.withUnsafeBufferPointer { if let s = $0.baseAddress { Kernels.copy(s, b.base, t.count) } }
            return b
        }
        let tape = Tape()
        func evaluate(recordGradients: Bool) -> Float {
            tape.reset()
            let xs = checking.indices.map {
                tape.leaf(data: values[$0].base, grad: recordGradients ? grads[$0].base : nil, shape: checking[$0].shape)
            }
            let cs = constants.indices.map { tape.leaf(data: constantValues[$0].base, grad: nil, shape: constants[$0].shape) }
            let loss = f(xs, cs)
            if recordGradients { loss.backward() }
            return loss.item
        }
        _ = evaluate(recordGradients: true)
        var result = Result(maxError: 0, worst: (0, 0), analytic: 0, numeric: 0)
        for (i, buffer) in values.enumerated() {
            for j in 0..<buffer.count {
                let original = buffer.base[j]
                buffer.base[j] = original + h
                let plus = evaluate(recordGradients: false)
                buffer.base[j] = original - h
                let minus = evaluate(recordGradients: false)
                buffer.base[j] = original
                let numeric = (plus - minus) / (2 * h)
                let analytic = grads[i].base[j]
                let error = abs(analytic - numeric) / (1 + abs(numeric))
                if error > result.maxError || (i == 0 && j == 0) {
                    result = Result(maxError: max(error, result.maxError), worst: (i, j), analytic: analytic, numeric: numeric)
                }
            }
        }
        return result
    }
}
