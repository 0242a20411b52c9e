import COpenBLAS
import CVector

/// The one seam to the BLAS library (OpenBLAS here; Accelerate would replace this file on macOS).
public enum BLAS {
    /// Makes every BLAS call single-threaded: Lockstep's workers are the threads. (Asking
    /// OpenBLAS for its thread count again when it is already 1 would restart a stopped pool.)
    public static func useOneThreadPerCall() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }

    /// Makes every call single-threaded and stops OpenBLAS's thread pool, which it starts when
    /// the library loads and whose idle threads spin for about 2^28 cycles before they sleep: a
    /// core of two for the first 0.1–0.2 s of every `lockstep` run. Call it only while no other
    /// thread can be inside a BLAS call — at a program's start, as the `lockstep` command does: a
    /// multithreaded call under way then would wait forever for the stopped threads.
    ///
    /// ```swift
    /// BLAS.stopThreadPool()   // first thing in main, before any thread starts
    /// ```
    public static func stopThreadPool() {
        useOneThreadPerCall()
        lockstep_openblas_stop_pool()
    }

    /// Threads OpenBLAS uses per call.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// OpenBLAS's build configuration and the kernel it chose for this CPU.
    public static var configuration: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config) · kernel \(core)"
    }

    /// C = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m×k, op(B) is k×n, C is m×n;
    /// `lda`, `ldb` are the row strides of A and B as stored.
    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS may skip scaling C when k = 0; do it ourselves.
            for r in 0..<m {
                for j in 0..<n { c[r * ldc + j] = beta == 0 ? 0 : c[r * ldc + j] * beta }
            }
            return
        }
        // OpenBLAS clears C for beta = 0 one scalar store at a time (sgemm_beta: 16 % of the digits
        // recipe in perf), then adds alpha · A·B to it; clearing it here and adding is the same
        // arithmetic on the same zeros, at memset's speed.
        var beta = beta
        if beta == 0 {
            if ldc == n { c.update(repeating: 0, count: m * n) } else { for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) } }
            beta = 1
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The longest inner dimension `gemmTransposedA` takes to its own kernel; longer ones go to
    /// OpenBLAS, which is as fast there and faster beyond (so does a product whose packed
    /// operands would pass `ownKernelScratchLimit`).
    public static let ownKernelInnerLimit = 256

    /// C = Aᵀ·B, or C += Aᵀ·B when `accumulate`, row-major: A is k×m, B is k×n, C is m×n — a
    /// linear layer's weight gradient Gᵀ·X over a worker's rows. For k up to
    /// `ownKernelInnerLimit` it runs Lockstep's kernel: each element one chain of fused
    /// multiply-adds over the k rows in order, written once (OpenBLAS clears C, then adds: on a
    /// 32-row shard of a 4096 × 4096 layer that was half its time). The arithmetic depends on the
    /// shapes only, never on which thread runs it. `scratch(count)` lends room for the packed
    /// operands until the call returns (a tape's arena); without it the call takes its own.
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
        if k > 0, k <= ownKernelInnerLimit, m > 0, n > 0, ownKernels, lockstep_gemm_tn_scratch(m, n, k) <= ownKernelScratchLimit {
            let count = lockstep_gemm_tn_scratch(m, n, k)
            if let scratch {
                _ = lockstep_gemm_tn(m, n, k, a, lda, b, ldb, accumulate ? 1 : 0, c, ldc, scratch(count))
            } else {
                withUnsafeTemporaryAllocation(of: Float.self, capacity: count) {
                    _ = lockstep_gemm_tn(m, n, k, a, lda, b, ldb, accumulate ? 1 : 0, c, ldc, $0.baseAddress!)
                }
            }
            return
        }
        gemm(transposeA: true, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
             beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }

    /// The most floats of packed operands the own kernels take (16 MiB); a product that would need
    /// more — a layer a million features wide — goes to OpenBLAS, which packs in blocks.
    public static let ownKernelScratchLimit = 1 << 22

    /// The most rows `gemmTransposedB` takes to its own kernel; more go to OpenBLAS.
    public static let ownKernelRowLimit = 128

    /// C = A·Bᵀ, or C += A·Bᵀ when `accumulate`, row-major: A is m×k, B is n×k, C is m×n — a
    /// linear layer's forward pass X·Wᵀ over a worker's rows (onto the bias when accumulating).
    /// For m up to `ownKernelRowLimit` it runs Lockstep's kernel, which reads the weight where it
    /// lies (OpenBLAS copies it into its own layout on every call: on a worker's 32 rows through a
    /// 4096 × 4096 layer that copy and its clearing were 45 % of the call); each element is one
    /// chain of fused multiply-adds over k in order, then one addition. `scratch` as in
    /// `gemmTransposedA`.
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
        if k > 0, m > 0, m <= ownKernelRowLimit, n > 0, ownKernels, lockstep_gemm_nt_scratch(m, n, k) <= ownKernelScratchLimit {
            let count = lockstep_gemm_nt_scratch(m, n, k)
            if let scratch {
                _ = lockstep_gemm_nt(m, n, k, a, lda, b, ldb, accumulate ? 1 : 0, c, ldc, scratch(count))
            } else {
                withUnsafeTemporaryAllocation(of: Float.self, capacity: count) {
                    _ = lockstep_gemm_nt(m, n, k, a, lda, b, ldb, accumulate ? 1 : 0, c, ldc, $0.baseAddress!)
                }
            }
            return
        }
        gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
             beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }

    /// Whether this CPU runs Lockstep's own kernels (x86-64 needs AVX2 and FMA; elsewhere always).
    public static let ownKernels = lockstep_own_kernels() != 0
}
