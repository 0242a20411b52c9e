extension Variable {
    /// Batch normalization over channel 1 of [N, C] or [N, C, …] (PyTorch's `F.batch_norm`).
    ///
    /// On a training tape each channel is normalized by the statistics of the whole batch —
    /// every replica's rows, summed through `tape.replicaSum` in the fixed tree order, as
    /// SyncBatchNorm does — so the result does not depend on how many workers share the batch,
    /// and the running statistics (`runningMean`, `runningVar`: (1 − momentum) · old +
    /// momentum · batch, the variance unbiased; `batchesTracked` + 1) stay identical on every
    /// replica. On an inference tape the running statistics normalize and nothing is updated.
    ///
    /// Shape: x [N, C, …], weight and bias [C] → the shape of x.
    public func batchNorm(weight: Variable, bias: Variable, runningMean: UnsafeMutablePointer<Float>,
                          runningVar: UnsafeMutablePointer<Float>, batchesTracked: UnsafeMutablePointer<Float>?,
                          momentum: Float = 0.1, eps: Float = 1e-5) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let s = shape
        guard s.rank >= 2 else { return tape.fail("batchNorm needs [N, C] or [N, C, …], got \(s)") }
        let channels = s[1]
        guard weight.shape.count == channels && bias.shape.count == channels else {
            return tape.fail("batchNorm of \(weight.shape.count) channels got input \(s)")
        }
        let rows = s[0], inner = channels == 0 || rows == 0 ? 0 : s.count / (rows * channels)
        let x = tape.data(id)
        guard tape.mode == .training else {
            let (out, y) = tape.record(.batchNorm, self, weight, bias, shape: s, zeroed: false)
            let g = tape.data(weight.id), b = tape.data(bias.id)
            for c in 0..<channels {
                let scale = g[c] / (runningVar[c] + eps).squareRoot(), shift = b[c] - runningMean[c] * scale
                for r in 0..<rows {
                    let o = (r * channels + c) * inner
                    for i in 0..<inner { y[o + i] = x[o + i] * scale + shift }
                }
            }
            return out
        }
        // Σx per channel and the row count, over every replica; then Σ(x − mean)² likewise.
        let sums = tape.scratchDoubles(channels + 1)
        for c in 0..<channels {
            var total: Double = 0
            for r in 0..<rows {
                let p = x + (r * channels + c) * inner
                for i in 0..<inner { total += Double(p[i]) }
            }
            sums[c] = total
        }
        sums[channels] = Double(rows * inner)
        guard tape.sumOverReplicas(sums) else { return tape.standIn() }
        let count = sums[channels]
        guard count > 1 else {
            return tape.fail("batchNorm in training needs more than one value per channel, got input \(s) over the whole batch "
                             + "(a last batch of one row? drop it: dropLast, --drop-last)")
        }
        let stats = tape.arena.allocate(2 * channels, zeroed: false)   // mean, then 1/std, per channel
        for c in 0..<channels { stats[c] = Float(sums[c] / count) }
        let squares = tape.scratchDoubles(channels)
        for c in 0..<channels {
            let mean = stats[c]
            var total: Double = 0
            for r in 0..<rows {
                let p = x + (r * channels + c) * inner
                for i in 0..<inner { let d = Double(p[i] - mean); total += d * d }
            }
            squares[c] = total
        }
        guard tape.sumOverReplicas(squares) else { return tape.standIn() }
        for c in 0..<channels {
            let variance = squares[c] / count
            stats[channels + c] = Float(1 / (variance + Double(eps)).squareRoot())
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * stats[c]
            runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(squares[c] / (count - 1))
        }
        batchesTracked?[0] += 1
        let (out, y) = tape.record(.batchNorm, self, weight, bias, shape: s, scalar: Float(count), saved: stats, zeroed: false)
        let g = tape.data(weight.id), b = tape.data(bias.id)
        for c in 0..<channels {
            let mean = stats[c], scale = stats[channels + c] * g[c]
            for r in 0..<rows {
                let o = (r * channels + c) * inner
                for i in 0..<inner { y[o + i] = (x[o + i] - mean) * scale + b[c] }
            }
        }
        return out
    }
}

extension Tape {
    /// Batch norm's backward: the weight and bias take this replica's sums (the engine's
    /// gradient all-reduce adds the other replicas'); the input's gradient needs the whole
    /// batch's Σg and Σg·x̂ per channel, summed over replicas here as the forward's statistics were.
    func batchNormBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        let s = shape(n.a), rows = s[0], channels = s[1]
        let inner = channels == 0 || rows == 0 ? 0 : s.count / (rows * channels)
        let x = data(n.a), gamma = data(n.b), stats = n.saved!, count = Double(n.scalar)
        let dGamma = gradient(n.b), dBeta = gradient(n.c)
        let sums = scratchDoubles(2 * channels)   // Σg, then Σg·x̂
        for c in 0..<channels {
            let mean = stats[c], rstd = stats[channels + c]
            var sg: Double = 0, sgx: Double = 0
            for r in 0..<rows {
                let o = (r * channels + c) * inner
                for i in 0..<inner {
                    let gi = Double(g[o + i])
                    sg += gi
                    sgx += gi * Double((x[o + i] - mean) * rstd)
                }
            }
            sums[c] = sg
            sums[channels + c] = sgx
            dBeta?[c] += Float(sg)
            dGamma?[c] += Float(sgx)
        }
        guard let dx = gradient(n.a) else { return }
        guard sumOverReplicas(sums) else { return }
        for c in 0..<channels {
            let mean = stats[c], rstd = stats[channels + c]
            let meanG = Float(sums[c] / count), meanGX = Float(sums[channels + c] / count), k = gamma[c] * rstd
            for r in 0..<rows {
                let o = (r * channels + c) * inner
                for i in 0..<inner {
                    let xhat = (x[o + i] - mean) * rstd
                    dx[o + i] += k * (g[o + i] - meanG - xhat * meanGX)
                }
            }
        }
    }
}
