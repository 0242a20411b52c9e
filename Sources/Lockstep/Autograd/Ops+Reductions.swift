extension Variable {
    /// Sum of all elements → scalar.
    public func sum() -> Variable {
        let (out, y) = tape.record(.sum, self, shape: .scalar)
        y[0] = Float(Kernels.sum(tape.data(id), shape.count))
        return out
    }

    /// Mean of all elements → scalar.
    public func mean() -> Variable {
        let n = shape.count
        let (out, y) = tape.record(.mean, self, shape: .scalar, scalar: Float(max(n, 1)))
        y[0] = Float(Kernels.sum(tape.data(id), n) / Double(max(n, 1)))
        return out
    }
}
