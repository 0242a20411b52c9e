extension Variable {
    /// Layer normalization over each row: (x − mean) / √(var + eps) · weight + bias, the biased
    /// variance as in PyTorch's `nn.LayerNorm`.
    ///
    /// Shape: [rows, features], weight and bias [features] → [rows, features].
    public func layerNorm(weight: Variable, bias: Variable, eps: Float = 1e-5) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard shape.rank == 2 else { return tape.fail("layerNorm needs [rows, features], got \(shape)") }
        let rows = shape[0], n = shape[1]
        guard weight.shape.count == n && bias.shape.count == n else {
            return tape.fail("layerNorm of \(weight.shape.count) features got rows of \(n)")
        }
        let stats = tape.arena.allocate(2 * rows, zeroed: false)  // mean, 1/std per row
        let (out, y) = tape.record(.layerNorm, self, weight, bias, shape: shape, scalar: eps, saved: stats)
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
