#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension Variable {
    /// op(self) · op(other) for each of a batch of matrices (PyTorch's `torch.bmm`), through BLAS.
    ///
    /// Shape: [B, m, k] · [B, k, n] → [B, m, n] (`transposeA`/`transposeB` read an operand's
    /// matrices transposed, without copying).
    ///
    /// ```swift
    /// let scores = q.batchedMatmul(k, transposeB: true)   // [B, T, d] · [B, T, d]ᵀ → [B, T, T]
    /// ```
    public func batchedMatmul(_ other: Variable, transposeA: Bool = false, transposeB: Bool = false) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let sa = shape, sb = other.shape
        guard sa.rank == 3 && sb.rank == 3 && sa[0] == sb[0] else {
            return tape.fail("batchedMatmul needs two batches of matrices [B, m, k] and [B, k, n], got \(sa) and \(sb)")
        }
        let m = transposeA ? sa[2] : sa[1], k = transposeA ? sa[1] : sa[2]
        let k2 = transposeB ? sb[2] : sb[1], n = transposeB ? sb[1] : sb[2]
        guard k == k2 else { return tape.fail("batchedMatmul inner dimensions differ: \(sa) and \(sb)") }
        let flag: Int32 = (transposeA ? 1 : 0) | (transposeB ? 2 : 0)
        let (out, y) = tape.record(.batchedMatmul, self, other, shape: Shape(sa[0], m, n), flag: flag, zeroed: false)
        let a = tape.data(id), b = tape.data(other.id), strideA = sa[1] * sa[2], strideB = sb[1] * sb[2]
        for i in 0..<sa[0] {
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a + i * strideA, lda: sa[2],
                      b: b + i * strideB, ldb: sb[2], beta: 0, c: y + i * m * n, ldc: n)
        }
        return out
    }

    /// Scaled dot-product attention of every head at once, on the packed projections a
    /// `MultiheadAttention` makes: for each sample and head h, softmax(Q·Kᵀ/√d) · V, where Q, K
    /// and V are the h-th `d`-wide slices of the first, second and third D-wide part of each
    /// position's 3D values (PyTorch's `in_proj` layout). With `causal`, position t attends to
    /// positions ≤ t only (PyTorch's `is_causal`, a mask of −∞ above the diagonal).
    ///
    /// One op, not a chain of reshapes: it reads Q, K and V in place with strided GEMMs, keeps
    /// one T × T block of attention weights per head for backward (none of the scores), and
    /// writes the heads side by side, ready for the output projection.
    ///
    /// Shape: [N, T, 3D] → [N, T, D]; D a multiple of `heads`.
    public func attention(heads: Int, causal: Bool) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        // Heads travel in 16 bits of the node's flag (the 17th is `causal`).
        guard shape.rank == 3, (1...0xFFFF).contains(heads), shape[2] % 3 == 0, (shape[2] / 3) % heads == 0 else {
            return tape.fail("attention takes packed projections [N, T, 3 × D] with D a multiple of \(heads) heads, got \(shape)")
        }
        let (batch, length, model) = (shape[0], shape[1], shape[2] / 3)
        let weights = tape.arena.allocate(batch * heads * length * length, zeroed: false)
        let (out, y) = tape.record(.attention, self, shape: Shape(batch, length, model),
                                   flag: Int32(heads) | (causal ? 1 << 16 : 0), saved: weights, zeroed: false)
        let layout = AttentionLayout(batch: batch, length: length, model: model, heads: heads, causal: causal)
        let qkv = tape.data(id)
        for sample in 0..<batch {
            for head in 0..<heads {
                let p = weights + layout.weightsOffset(sample, head)
                let (q, k, v) = layout.projections(qkv, sample, head)
                // Scores, then each row's softmax over the positions it may see (the rest 0).
                BLAS.gemm(transposeA: false, transposeB: true, m: length, n: length, k: layout.headDim, alpha: layout.scale,
                          a: q, lda: 3 * model, b: k, ldb: 3 * model, beta: 0, c: p, ldc: length)
                for t in 0..<length {
                    let row = p + t * length, seen = causal ? t + 1 : length
                    var m = -Float.infinity
                    for j in 0..<seen { m = max(m, row[j]) }
                    var s: Float = 0
                    for j in 0..<seen { let e = expf(row[j] - m); row[j] = e; s += e }
                    let inverse = 1 / s
                    for j in 0..<seen { row[j] *= inverse }
                    for j in seen..<length { row[j] = 0 }
                }
                BLAS.gemm(transposeA: false, transposeB: false, m: length, n: layout.headDim, k: length,
                          a: p, lda: length, b: v, ldb: 3 * model, beta: 0, c: y + layout.outputOffset(sample, head), ldc: model)
            }
        }
        return out
    }
}

/// Where attention's operands lie in the packed [N, T, 3D] projections and the [N, T, D] output.
struct AttentionLayout {
    let batch: Int, length: Int, model: Int, heads: Int, causal: Bool
    var headDim: Int { model / heads }
    var scale: Float { 1 / Float(headDim).squareRoot() }

    func projections(_ qkv: UnsafeMutablePointer<Float>, _ sample: Int, _ head: Int)
        -> (q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) {
        let q = qkv + sample * length * 3 * model + head * headDim
        return (q, q + model, q + 2 * model)
    }
    func weightsOffset(_ sample: Int, _ head: Int) -> Int { (sample * heads + head) * length * length }
    func outputOffset(_ sample: Int, _ head: Int) -> Int { sample * length * model + head * headDim }
}

extension Tape {
    /// Backward of `batchedMatmul`: each matrix's rule, as `matmul`'s.
    func batchedMatmulBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        let sa = shape(n.a), sb = shape(n.b), so = shape(n.out)
        let tA = n.flag & 1 != 0, tB = n.flag & 2 != 0
        let m = so[1], nn = so[2], k = tA ? sa[1] : sa[2]
        let a = data(n.a), b = data(n.b), da = gradient(n.a), db = gradient(n.b)
        let strideA = sa[1] * sa[2], strideB = sb[1] * sb[2], strideG = m * nn
        for i in 0..<sa[0] {
            let gi = g + i * strideG, ai = a + i * strideA, bi = b + i * strideB
            if let da {
                if tA {
                    BLAS.gemm(transposeA: tB, transposeB: true, m: k, n: m, k: nn, a: bi, lda: sb[2],
                              b: gi, ldb: nn, beta: 1, c: da + i * strideA, ldc: sa[2])
                } else {
                    BLAS.gemm(transposeA: false, transposeB: !tB, m: m, n: k, k: nn, a: gi, lda: nn,
                              b: bi, ldb: sb[2], beta: 1, c: da + i * strideA, ldc: sa[2])
                }
            }
            if let db {
                if tB {
                    BLAS.gemm(transposeA: true, transposeB: tA, m: nn, n: k, k: m, a: gi, lda: nn,
                              b: ai, ldb: sa[2], beta: 1, c: db + i * strideB, ldc: sb[2])
                } else {
                    BLAS.gemm(transposeA: !tA, transposeB: false, m: k, n: nn, k: m, a: ai, lda: sa[2],
                              b: gi, ldb: nn, beta: 1, c: db + i * strideB, ldc: sb[2])
                }
            }
        }
    }

    /// Backward of `attention`, per sample and head, with P the kept weights and G the output's
    /// gradient: dV = Pᵀ·G, dP = G·Vᵀ, dS = P ⊙ (dP − Σ_row dP⊙P), dQ = dS·K/√d, dK = dSᵀ·Q/√d.
    func attentionBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        guard let dqkv = gradient(n.a), let weights = n.saved else { return }
        let s = shape(n.a), heads = Int(n.flag & 0xFFFF)
        let layout = AttentionLayout(batch: s[0], length: s[1], model: s[2] / 3, heads: heads, causal: n.flag >> 16 != 0)
        let length = layout.length, model = layout.model, d = layout.headDim, ld = 3 * model
        let scratch = arena.allocate(length * length, zeroed: false)
        let qkv = data(n.a)
        for sample in 0..<layout.batch {
            for head in 0..<heads {
                let p = weights + layout.weightsOffset(sample, head), go = g + layout.outputOffset(sample, head)
                let (q, k, v) = layout.projections(qkv, sample, head)
                let (dq, dk, dv) = layout.projections(dqkv, sample, head)
                BLAS.gemm(transposeA: true, transposeB: false, m: length, n: d, k: length, a: p, lda: length,
                          b: go, ldb: model, beta: 1, c: dv, ldc: ld)
                BLAS.gemm(transposeA: false, transposeB: true, m: length, n: length, k: d, a: go, lda: model,
                          b: v, ldb: ld, beta: 0, c: scratch, ldc: length)
                for t in 0..<length {
                    let row = scratch + t * length, weightsRow = p + t * length, seen = layout.causal ? t + 1 : length
                    var total: Float = 0
                    for j in 0..<seen { total += row[j] * weightsRow[j] }
                    for j in 0..<seen { row[j] = weightsRow[j] * (row[j] - total) }
                    for j in seen..<length { row[j] = 0 }
                }
                BLAS.gemm(transposeA: false, transposeB: false, m: length, n: d, k: length, alpha: layout.scale,
                          a: scratch, lda: length, b: k, ldb: ld, beta: 1, c: dq, ldc: ld)
                BLAS.gemm(transposeA: true, transposeB: false, m: length, n: d, k: length, alpha: layout.scale,
                          a: scratch, lda: length, b: q, ldb: ld, beta: 1, c: dk, ldc: ld)
            }
        }
    }
}
