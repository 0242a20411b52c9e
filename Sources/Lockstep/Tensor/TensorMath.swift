import CThreading

/// Arithmetic on owned tensors, outside any tape: what data preparation, evaluation and tests
/// need. Each result is a new tensor; the shapes are checked.
extension Tensor {
    /// op(self) · op(other), through BLAS with transposes and no copies.
    ///
    /// ```swift
    /// let y = x.matmul(w, transposeB: true)   // x [b, in] · wᵀ, w [out, in] → [b, out]
    /// ```
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(shape.rank == 2 && other.shape.rank == 2, "matmul needs matrices, got \(shape) and \(other.shape)")
        let m = transposeA ? shape[1] : shape[0], k = transposeA ? shape[0] : shape[1]
        let k2 = transposeB ? other.shape[1] : other.shape[0], n = transposeB ? other.shape[0] : other.shape[1]
        precondition(k == k2, "matmul inner dimensions differ: \(shape)\(transposeA ? "ᵀ" : "") · \(other.shape)\(transposeB ? "ᵀ" : "")")
        let out = Tensor(zeros: Shape(m, n))
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                  a: storage.base, lda: shape[1], b: other.storage.base, ldb: other.shape[1],
                  beta: 0, c: out.storage.base, ldc: n)
        return out
    }

    private func elementwise(_ other: Tensor, _ name: String,
                             _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int, Broadcast) -> Void) -> Tensor {
        guard let b = Broadcast.of(other.shape, over: shape) else {
            preconditionFailure("\(name): shape \(other.shape) does not broadcast over \(shape)")
        }
        let out = Tensor(zeros: shape)
        let (rows, columns) = b.layout(count: shape.count, operand: other.shape.count)
        body(storage.base, other.storage.base, out.storage.base, rows, columns, b)
        return out
    }

    /// Elementwise sum; `rhs` may be the same shape, trailing dimensions of it, or a scalar.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        lhs.elementwise(rhs, "+") { Kernels.add($0, $1, $2, rows: $3, columns: $4, broadcast: $5) }
    }

    /// Elementwise difference; `rhs` may be the same shape, trailing dimensions of it, or a scalar.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        lhs.elementwise(rhs, "-") { Kernels.add($0, $1, $2, rows: $3, columns: $4, broadcast: $5, sign: -1) }
    }

    /// Elementwise product; `rhs` may be the same shape, trailing dimensions of it, or a scalar.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        lhs.elementwise(rhs, "*") { Kernels.mul($0, $1, $2, rows: $3, columns: $4, broadcast: $5) }
    }

    /// Every element times `rhs`.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        var out = lhs
        out.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= rhs } }
        return out
    }

    /// Sum of all elements (accumulated in Double).
    public func sum() -> Float { withUnsafeBufferPointer { Float(Kernels.sum($0.baseAddress!, $0.count)) } }

    /// Mean of all elements.
    public func mean() -> Float { count == 0 ? .nan : sum() / Float(count) }

    /// Sums of a matrix along `axis`: 0 sums over rows (→ [columns]), 1 over columns (→ [rows]).
    public func sum(alongAxis axis: Int) -> Tensor {
        precondition(shape.rank == 2 && (axis == 0 || axis == 1), "sum(alongAxis:) needs a matrix and axis 0 or 1")
        let rows = shape[0], columns = shape[1]
        var out = Tensor(zeros: Shape(axis == 0 ? columns : rows))
        withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    for c in 0..<columns {
                        if axis == 0 { o[c] += x[r * columns + c] } else { o[r] += x[r * columns + c] }
                    }
                }
            }
        }
        return out
    }

    /// Means of a matrix along `axis` (see `sum(alongAxis:)`).
    public func mean(alongAxis axis: Int) -> Tensor {
        let n = axis == 0 ? shape[0] : shape[1]
        return sum(alongAxis: axis) * (1 / Float(max(n, 1)))
    }

    /// Index of the largest element in each row of a matrix.
    public func argmaxRows() -> [Int] {
        precondition(shape.rank == 2, "argmaxRows needs a matrix")
        var out = [Int](repeating: 0, count: shape[0])
        out.withUnsafeMutableBufferPointer { o in
            Kernels.argmaxRows(storage.base, rows: shape[0], columns: shape[1], into: o.baseAddress!)
        }
        return out
    }

    /// Rows `indices` of a matrix (samples of any shape: [rows, …]), gathered into a new one.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        let columns = shape.rank >= 2 ? shape.columns : 1
        let rowCount = shape.rank >= 2 ? shape[0] : count
        for r in indices { precondition(r >= 0 && r < rowCount, "row \(r) out of range") }
        return Tensor(shape: shape.rank >= 2 ? shape.withRows(indices.count) : Shape(indices.count)) { out in
            // Rows in random order (a split's): each is asked for some rows ahead, so that the
            // cache misses overlap (a third of the split's time on 2 M rows).
            let ahead = Kernels.prefetchDistance
            for i in 0..<min(ahead, indices.count) { lockstep_prefetch(storage.base + indices[i] * columns) }
            for (i, r) in indices.enumerated() {
                if i + ahead < indices.count { lockstep_prefetch(storage.base + indices[i + ahead] * columns) }
                Kernels.copy(storage.base + r * columns, out.baseAddress! + i * columns, columns)
            }
        }
    }
}
