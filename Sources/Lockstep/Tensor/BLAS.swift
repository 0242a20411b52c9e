import COpenBLAS

/// The one seam to the BLAS library (OpenBLAS here; Accelerate would replace this file on macOS).
public enum BLAS {
    /// Makes every BLAS call single-threaded: Lockstep's workers are the threads.
    public static func useOneThreadPerCall() {
        openblas_set_num_threads(1)
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
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
