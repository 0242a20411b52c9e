#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension Tape {
    /// Back-propagates from a scalar `root`: walks the recorded ops in reverse and accumulates
    /// each operand's gradient. Parameter leaves accumulate into their gradient buffers (so call
    /// `zeroGrad` between steps, as in PyTorch); intermediate gradients live in the arena.
    public func backward(from root: Variable) {
        precondition(root.tape === self, "backward from a variable of another tape")
        precondition(root.shape.count == 1, "backward needs a scalar, got shape \(root.shape)")
        guard let seed = gradient(root.id) else { return }  // nothing requires a gradient
        seed[0] += 1
        for i in stride(from: nodes.count - 1, through: 0, by: -1) {
            let node = nodes[i]
            guard let g = values[Int(node.out)].grad else { continue }  // did not reach the root
            backward(node, g)
        }
    }

    // One case per op kind. `g` is ∂root/∂out; each rule adds into the operands' gradients.
    private func backward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        let outShape = shape(n.out)
        switch n.op {
        case .matmul:
            let sa = shape(n.a), sb = shape(n.b)
            let tA = n.flag & 1 != 0, tB = n.flag & 2 != 0
            let m = outShape[0], nn = outShape[1], k = tA ? sa[0] : sa[1]
            if let da = gradient(n.a) {
                // d op(A) = G · op(B)ᵀ; for a transposed A store its transpose: dA = op(B) · Gᵀ.
                if tA {
                    BLAS.gemm(transposeA: tB, transposeB: true, m: k, n: m, k: nn, a: data(n.b), lda: sb[1],
                              b: g, ldb: nn, beta: 1, c: da, ldc: sa[1])
                } else {
                    BLAS.gemm(transposeA: false, transposeB: !tB, m: m, n: k, k: nn, a: g, lda: nn,
                              b: data(n.b), ldb: sb[1], beta: 1, c: da, ldc: sa[1])
                }
            }
            if let db = gradient(n.b) {
                // d op(B) = op(A)ᵀ · G; for a transposed B: dB = Gᵀ · op(A).
                if tB {
                    BLAS.gemm(transposeA: true, transposeB: tA, m: nn, n: k, k: m, a: g, lda: nn,
                              b: data(n.a), ldb: sa[1], beta: 1, c: db, ldc: sb[1])
                } else {
                    BLAS.gemm(transposeA: !tA, transposeB: false, m: k, n: nn, k: m, a: data(n.a), lda: sa[1],
                              b: g, ldb: nn, beta: 1, c: db, ldc: sb[1])
                }
            }

        case .conv2d:
            convolutionBackward(n, g)
        case .maxPool2d:
            maxPoolBackward(n, g)
        case .avgPool2d:
            averagePoolBackward(n, g)
        case .reshape, .concatenate, .permute:
            shapeBackward(n, g)

        case .linear:
            let outF = outShape[outShape.rank - 1], inF = shape(n.b)[1], rows = outF == 0 ? 0 : outShape.count / outF
            if let dx = gradient(n.a) {  // dX += G · W
                BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: inF, k: outF, a: g, lda: outF,
                          b: data(n.b), ldb: inF, beta: 1, c: dx, ldc: inF)
            }
            if let (dw, overwrite) = gradientForWriting(n.b) {  // dW += Gᵀ · X (or = when stale)
                BLAS.gemmTransposedA(m: outF, n: inF, k: rows, a: g, lda: outF, b: data(n.a), ldb: inF,
                                     accumulate: !overwrite, c: dw, ldc: inF) { [arena] in arena.allocate($0, zeroed: false) }
            }
            if n.c >= 0, let db = gradient(n.c) {
                Kernels.accumulateColumnSums(g, rows: rows, columns: outF, into: db)
            }

        case .add, .sub:
            let count = outShape.count
            if let da = gradient(n.a) { Kernels.axpy(1, g, da, count) }
            if let db = gradient(n.b) {
                reduceBroadcast(g, into: db, n.flag, outShape, operandCount: shape(n.b).count, scale: n.op == .add ? 1 : -1)
            }

        case .mul:
            let count = outShape.count, a = data(n.a), b = data(n.b)
            let broadcast = Broadcast(rawValue: UInt8(n.flag))!
            if let da = gradient(n.a) {
                let tmp = arena.allocate(count, zeroed: false)
                let (rows, columns) = broadcast.layout(count: count, operand: shape(n.b).count)
                Kernels.mul(g, b, tmp, rows: rows, columns: columns, broadcast: broadcast)
                Kernels.axpy(1, tmp, da, count)
            }
            if let db = gradient(n.b) {
                let tmp = arena.allocate(count, zeroed: false)
                Kernels.mul(g, a, tmp, rows: 1, columns: count, broadcast: .none)
                reduceBroadcast(tmp, into: db, n.flag, outShape, operandCount: shape(n.b).count, scale: 1)
            }

        case .scale:
            if let da = gradient(n.a) { Kernels.axpy(n.scalar, g, da, outShape.count) }

        case .relu:
            if let da = gradient(n.a) {
                Kernels.reluBackward(data(n.out), g, da, outShape.count)
            }
        case .tanh:
            if let da = gradient(n.a) {
                let y = data(n.out)
                for i in 0..<outShape.count { da[i] += g[i] * (1 - y[i] * y[i]) }
            }
        case .sigmoid:
            if let da = gradient(n.a) {
                let y = data(n.out)
                for i in 0..<outShape.count { da[i] += g[i] * y[i] * (1 - y[i]) }
            }
        case .gelu:
            if let da = gradient(n.a) {
                let x = data(n.a)
                if let cdf = n.saved {
                    for i in 0..<outShape.count { da[i] += g[i] * Kernels.geluDerivative(x[i], cdf: cdf[i]) }
                } else {
                    for i in 0..<outShape.count { da[i] += g[i] * Kernels.geluDerivative(x[i]) }
                }
            }

        case .softmax, .logSoftmax:
            softmaxBackward(n, g)

        case .dropout:
            if let da = gradient(n.a), let mask = n.saved {
                for i in 0..<outShape.count { da[i] += g[i] * mask[i] }
            }

        case .layerNorm:
            layerNormBackward(n, g)
        case .batchNorm:
            batchNormBackward(n, g)
        case .embedding:
            embeddingBackward(n, g)
        case .batchedMatmul:
            batchedMatmulBackward(n, g)
        case .attention:
            attentionBackward(n, g)

        case .sum, .mean:
            if let da = gradient(n.a) {
                let v = n.op == .sum ? g[0] : g[0] / n.scalar
                for i in 0..<shape(n.a).count { da[i] += v }
            }

        case .mse, .l1, .huber:
            let sa = shape(n.a)
            let p = data(n.a), t = data(n.b), delta = n.extra
            let k = g[0] / (n.scalar * Float(max(sa.columns, 1)))
            let dp = gradient(n.a), dt = gradient(n.b)
            for i in 0..<sa.count {
                let d = p[i] - t[i]
                let local: Float
                switch n.op {
                case .mse: local = 2 * d
                case .l1: local = d > 0 ? 1 : (d < 0 ? -1 : 0)
                default: local = abs(d) < delta ? d : delta * (d > 0 ? 1 : -1)
                }
                dp?[i] += k * local
                dt?[i] -= k * local
            }

        case .crossEntropy:
            if let dx = gradient(n.a), let probabilities = n.saved {  // (softmax − onehot) · g / divisor
                let sa = shape(n.a), classes = sa[sa.rank - 1], rows = shape(n.b).count, t = data(n.b), k = g[0] / n.scalar
                for r in 0..<rows {
                    for c in 0..<classes { dx[r * classes + c] += k * probabilities[r * classes + c] }
                    dx[r * classes + Int(t[r])] -= k
                }
            }

        case .bceWithLogits:
            let sa = shape(n.a), x = data(n.a), t = data(n.b)
            let k = g[0] / (n.scalar * Float(max(sa.columns, 1)))
            if let dx = gradient(n.a) {
                for i in 0..<sa.count { dx[i] += k * (Kernels.stableSigmoid(x[i]) - t[i]) }
            }
            if let dt = gradient(n.b) {
                for i in 0..<sa.count { dt[i] -= k * x[i] }
            }
        }
    }

    /// Adds `g` (shaped `outShape`) into the gradient of an operand that was broadcast.
    private func reduceBroadcast(_ g: UnsafeMutablePointer<Float>, into d: UnsafeMutablePointer<Float>,
                                 _ flag: Int32, _ outShape: Shape, operandCount: Int, scale: Float) {
        let broadcast = Broadcast(rawValue: UInt8(flag))!
        switch broadcast {
        case .none: Kernels.axpy(scale, g, d, outShape.count)
        case .row:
            let (rows, columns) = broadcast.layout(count: outShape.count, operand: operandCount)
            Kernels.accumulateColumnSums(g, rows: rows, columns: columns, into: d, scale: scale)
        case .scalar: d[0] += scale * Float(Kernels.sum(g, outShape.count))
        }
    }

    private func layerNormBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        let s = shape(n.a), f = s[s.rank - 1], rows = f == 0 ? 0 : s.count / f
        let x = data(n.a), gamma = data(n.b), stats = n.saved!
        let dx = gradient(n.a), dGamma = gradient(n.b), dBeta = gradient(n.c)
        for r in 0..<rows {
            let o = r * f, mean = stats[2 * r], rstd = stats[2 * r + 1]
            var meanGG: Float = 0, meanGGX: Float = 0
            for c in 0..<f {
                let xhat = (x[o + c] - mean) * rstd
                let gg = g[o + c] * gamma[c]
                meanGG += gg
                meanGGX += gg * xhat
                dGamma?[c] += g[o + c] * xhat
                dBeta?[c] += g[o + c]
            }
            meanGG /= Float(f)
            meanGGX /= Float(f)
            if let dx {
                for c in 0..<f {
                    let xhat = (x[o + c] - mean) * rstd
                    dx[o + c] += rstd * (g[o + c] * gamma[c] - meanGG - xhat * meanGGX)
                }
            }
        }
    }
}
