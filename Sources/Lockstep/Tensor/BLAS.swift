import COpenBLAS

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
}
