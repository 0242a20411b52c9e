extension Variable {
    /// op(self) · op(other) through BLAS (`transposeA`/`transposeB` read the operand as its
    /// transpose without copying).
    ///
    /// Shape: [m, k] · [k, n] → [m, n].
    public func matmul(_ other: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let sa = shape, sb = other.shape
        guard sa.rank == 2 && sb.rank == 2 else { return tape.fail("matmul needs matrices, got \(sa) and \(sb)") }
        let m = transposeA ? sa[1] : sa[0], k = transposeA ? sa[0] : sa[1]
        let k2 = transposeB ? sb[1] : sb[0], n = transposeB ? sb[0] : sb[1]
        guard k == k2 else { return tape.fail("matmul inner dimensions differ: \(sa) and \(sb)") }
        let flag: Int32 = (transposeA ? 1 : 0) | (transposeB ? 2 : 0)
        let (out, y) = tape.record(.matmul, self, other, shape: Shape(m, n), flag: flag)
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                  a: tape.data(id), lda: sa[1], b: tape.data(other.id), ldb: sb[1], beta: 0, c: y, ldc: n)
        return out
    }

    /// The fused affine map of `Linear`: self · weightᵀ + bias, over the last dimension.
    ///
    /// Shape: input [batch, in] (or [batch, T, in]: every position), weight [out, in], bias [out]
    /// → [batch, out] (or [batch, T, out]).
    public func linear(weight: Variable, bias: Variable?) -> Variable {
        precondition(weight.tape === tape && (bias?.tape ?? tape) === tape, "operands of one op must be on the same tape")
        return linear(weight: weight.id, bias: bias?.id ?? -1)
    }

    /// `linear` with a layer's own parameters, recorded as leaves by their slots: `Linear`'s
    /// forward pass makes no variable for them.
    func linear(weight: Parameter, bias: Parameter?) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        return linear(weight: tape.parameterID(weight), bias: bias.map { tape.parameterID($0) } ?? -1)
    }

    /// `linear` by the weight's and the bias's slots on this tape (bias -1: none).
    private func linear(weight: Int32, bias: Int32) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let sx = shape, sw = tape.shape(weight)
        guard sx.rank >= 2 && sw.rank == 2 && sx[sx.rank - 1] == sw[1] else {
            return tape.fail("linear: input \(sx) does not match weight \(sw) (it takes [rows, \(sw.rank == 2 ? sw[1] : 0)])")
        }
        let inFeatures = sw[1], rows = inFeatures == 0 ? 0 : sx.count / inFeatures, outFeatures = sw[0]
        if bias >= 0, tape.shape(bias).count != outFeatures { return tape.fail("linear: bias \(tape.shape(bias)) for \(outFeatures) outputs") }
        let (out, y) = tape.record(.linear, id, weight, bias, shape: sx.with(dimension: sx.rank - 1, outFeatures),
                                   zeroed: inFeatures == 0)   // otherwise the bias or the GEMM (β = 0) writes every element
        if bias >= 0 {
            let b = tape.data(bias)
            if outFeatures == 1 {
                y.update(repeating: b[0], count: rows)
            } else {
                for r in 0..<rows { Kernels.copy(b, y + r * outFeatures, outFeatures) }
            }
        }
        BLAS.gemmTransposedB(m: rows, n: outFeatures, k: inFeatures, a: tape.data(id), lda: inFeatures,
                             b: tape.data(weight), ldb: inFeatures, accumulate: bias >= 0, c: y, ldc: outFeatures) { [arena = tape.arena] in
            arena.allocate($0, zeroed: false)
        }
        return Variable(tape: tape, id: out)
    }
}
