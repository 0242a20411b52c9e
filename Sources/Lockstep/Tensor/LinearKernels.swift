import CVector

/// Lockstep's own kernels for a linear layer's two products over a worker's short shard: the
/// forward pass X·Wᵀ and the weight gradient Gᵀ·X (`Sources/CVector/gemm.c`). OpenBLAS packs both
/// operands on every call and clears C before adding to it; with a few rows per worker (several
/// workers on a thread) that was most of the work. Each element here is one defined chain — the
/// first product, then fused multiply-adds over the inner dimension in order, then one addition of
/// the old value or bias — so the bytes depend on the shapes only, never on the thread, tile or
/// vector width: N workers give the same bytes on any number of threads. Which shapes go to which
/// library is fixed by the rules below, measured on this project's machine with
/// `Benchmarks/kernels/run.sh`; a CPU without AVX2 and FMA (x86-64) keeps OpenBLAS throughout, so
/// its bytes differ from an AVX2 machine's (CPUs may round differently: DESIGN.md §3). Because the
/// rules look at the rows, one row's output can differ in its last bits with the number of rows
/// beside it (a prediction of 100 rows against the same rows inside 1 797), as OpenBLAS's could.
/// C must not overlap A or B.
extension BLAS {
    /// Whether this CPU runs Lockstep's own kernels (x86-64 needs AVX2 and FMA; elsewhere always).
    public static let ownKernels = lockstep_own_kernels() != 0

    /// The most floats of packed operands the own kernels take (16 MiB); a product that would need
    /// more — a layer a million features wide — goes to OpenBLAS, which packs in blocks.
    public static let ownKernelScratchLimit = 1 << 22

    /// The longest inner dimension (shard rows) `gemmTransposedA` takes to its own kernel.
    public static let ownKernelInnerLimit = 256

    /// The most rows `gemmTransposedB` takes to its own kernel.
    public static let ownKernelRowLimit = 128

    /// Whether `gemmTransposedA` computes (m, n, k) on its own kernel: up to `ownKernelInnerLimit`
    /// rows, and then when the rows are few (k ≤ 16), the gradient large (m·n ≥ 65 536: OpenBLAS's
    /// clearing and packing weigh most there) or tiny (m·n ≤ 64). Between those, e.g. 128 × 64
    /// over 32 rows, OpenBLAS was as fast or faster.
    public static func ownKernelTakesTransposedA(m: Int, n: Int, k: Int) -> Bool {
        guard ownKernels, m > 0, n > 0, k > 0, k <= ownKernelInnerLimit,
              lockstep_gemm_tn_scratch(m, n, k) <= ownKernelScratchLimit else { return false }
        return k <= 16 || m * n >= 1 << 16 || m * n <= 64
    }

    /// Whether `gemmTransposedB` computes (m, n, k) on its own kernel: up to `ownKernelRowLimit`
    /// rows, and then when they are 8 or fewer, the weight large (n·k ≥ 65 536, where OpenBLAS's
    /// copy of it costs most) or the product tiny (m·n ≤ 64).
    public static func ownKernelTakesTransposedB(m: Int, n: Int, k: Int) -> Bool {
        guard ownKernels, m > 0, n > 0, k > 0, m <= ownKernelRowLimit,
              lockstep_gemm_nt_scratch(m, n, k) <= ownKernelScratchLimit else { return false }
        return m <= 8 || n * k >= 1 << 16 || m * n <= 64
    }

    /// C = Aᵀ·B, or C += Aᵀ·B when `accumulate`, row-major: A is k×m, B is k×n, C is m×n — a
    /// linear layer's weight gradient Gᵀ·X over a worker's rows, on the own kernel where
    /// `ownKernelTakesTransposedA` says (on a 32-row shard of a 4096 × 4096 layer, about half
    /// OpenBLAS's time: Benchmarks/RESULTS.md), else on OpenBLAS. `scratch(count)` lends room for the packed operands until the
    /// call returns (a tape's arena); without it the call takes its own.
    ///
    /// ```swift
    /// let g: [Float] = [1, 2], x: [Float] = [3, 4]   // one row: G is 1×2, X is 1×2
    /// var w = [Float](repeating: 0, count: 4)
    /// BLAS.gemmTransposedA(m: 2, n: 2, k: 1, a: g, lda: 2, b: x, ldb: 2, accumulate: false, c: &w, ldc: 2)
    /// // w == [3, 4, 6, 8]: w[i][j] = g[i] · x[j]
    /// ```
    public static func gemmTransposedA(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                       b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                                       c: UnsafeMutablePointer<Float>, ldc: Int,
                                       scratch: ((Int) -> UnsafeMutablePointer<Float>)? = nil) {
        precondition(lda >= m && ldb >= n && ldc >= n, "gemmTransposedA: a row stride shorter than its row")
        if ownKernelTakesTransposedA(m: m, n: n, k: k) {
            ownTransposedA(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc, scratch: scratch)
        } else {
            gemm(transposeA: true, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                 beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
    }

    /// C = A·Bᵀ, or C += A·Bᵀ when `accumulate`, row-major: A is m×k, B is n×k, C is m×n — a
    /// linear layer's forward pass X·Wᵀ over a worker's rows (onto the bias when accumulating), on
    /// the own kernel where `ownKernelTakesTransposedB` says, which reads the weight where it lies
    /// (OpenBLAS copies it into its own layout on every call: 32 rows through a 4096 × 4096 layer
    /// take about half OpenBLAS's time), else on OpenBLAS. `scratch` as in `gemmTransposedA`.
    ///
    /// ```swift
    /// let x: [Float] = [1, 2], w: [Float] = [3, 4, 5, 6]   // one row of two features; two outputs
    /// var y: [Float] = [0.5, -0.5]                        // the bias
    /// BLAS.gemmTransposedB(m: 1, n: 2, k: 2, a: x, lda: 2, b: w, ldb: 2, accumulate: true, c: &y, ldc: 2)
    /// // y == [11.5, 16.5]: the bias plus x · each row of w
    /// ```
    public static func gemmTransposedB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                       b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                                       c: UnsafeMutablePointer<Float>, ldc: Int,
                                       scratch: ((Int) -> UnsafeMutablePointer<Float>)? = nil) {
        precondition(lda >= k && ldb >= k && ldc >= n, "gemmTransposedB: a row stride shorter than its row")
        if ownKernelTakesTransposedB(m: m, n: n, k: k) {
            ownTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc, scratch: scratch)
        } else {
            gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                 beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
    }

    /// The own weight-gradient kernel on any positive shape (the tests hold it to its definition).
    static func ownTransposedA(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                               scratch: ((Int) -> UnsafeMutablePointer<Float>)?) {
        withScratch(lockstep_gemm_tn_scratch(m, n, k), scratch) {
            _ = lockstep_gemm_tn(m, n, k, a, lda, b, ldb, accumulate ? 1 : 0, c, ldc, $0)
        }
    }

    /// The own forward kernel on any positive shape.
    static func ownTransposedB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                               scratch: ((Int) -> UnsafeMutablePointer<Float>)?) {
        withScratch(lockstep_gemm_nt_scratch(m, n, k), scratch) {
            _ = lockstep_gemm_nt(m, n, k, a, lda, b, ldb, accumulate ? 1 : 0, c, ldc, $0)
        }
    }

    private static func withScratch(_ count: Int, _ scratch: ((Int) -> UnsafeMutablePointer<Float>)?,
                                    _ body: (UnsafeMutablePointer<Float>) -> Void) {
        if let scratch { return body(scratch(count)) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { body($0.baseAddress!) }
    }
}
