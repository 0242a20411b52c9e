extension Variable {
    /// Layer normalization over each row: (x − mean) / √(var + eps) · weight + bias, the biased
    /// variance as in PyTorch's `nn.LayerNorm`.
    ///
    /// Shape: […, features], weight and bias [features] → the same shape (every position of a
    /// sequence [N, T, D] normalized over its D values).
    public func layerNorm(weight: Variable, bias: Variable, eps: Float = 1e-5) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard shape.rank >= 1 else { return tape.fail("layerNorm needs [rows, features], got \(shape)") }
        let n = shape[shape.rank - 1], rows = n == 0 ? 0 : shape.count / n
        guard weight.shape.count == n && bias.shape.count == n else {
            return tape.fail("layerNorm of \(weight.shape.count) features got rows of \(n)")
        }
        let stats = tape.arena.allocate(2 * rows, zeroed: false)  // mean, 1/std per row
        let (out, y) = tape.record(.layerNorm, self, weight, bias, shape: shape, scalar: eps, saved: stats, zeroed: false)
        let x = tape.data(id), g = tape.data(weight.id), b = tape.data(bias.id)
        for r in 0..<rows {
            let row = x + r * n
            var mean: Float = 0
            for c in 0..<n { mean += row[c] }
            mean /= Float(n)
            var variance: Float = 0
            for c in 0..<n { let d = row[c] - mean; variance += d * d }
            variance /= Float(n)
            let rstd = 1 / (variance + eps).squareRoot()
            stats[2 * r] = mean
            stats[2 * r + 1] = rstd
            for c in 0..<n { y[r * n + c] = (row[c] - mean) * rstd * g[c] + b[c] }
        }
        return out
    }
}
