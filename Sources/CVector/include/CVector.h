#ifndef LOCKSTEP_CVECTOR_H
#define LOCKSTEP_CVECTOR_H
#include <stddef.h>

// Vector operations Swift's SIMD types lower lane by lane: SIMD8<Float>.squareRoot() became eight
// scalar square roots with a branch each (a third of Adam's step in perf on the digits recipe).
// Clang's elementwise builtin gives the vector instruction; each lane is the correctly rounded
// square root, as the scalar one, so results are the same bytes.

typedef float lockstep_float8 __attribute__((ext_vector_type(8)));

/// The square root of each lane.
static inline lockstep_float8 lockstep_sqrt8(lockstep_float8 x) { return __builtin_elementwise_sqrt(x); }

/// The index of the first of `n` floats whose magnitude is not at most `limit` (a NaN, an
/// infinity, or a value beyond), or -1: a whole data set's check, vectorized (Swift's
/// `firstIndex(where:)` tests one float at a time).
ptrdiff_t lockstep_first_beyond(const float *x, ptrdiff_t n, float limit);

/// How many lines end in the `n` bytes at `p`: bytes LF, VT, FF or CR (where Swift's
/// `Character.isNewline` splits ASCII text), a CR followed by LF counted once. `*empty` gets how
/// many of them are followed, within the bytes, by another break (other than LF after CR): each
/// begins an empty line. A CSV reader's count of the rows each chunk can hold before it parses
/// them, so that every chunk writes its rows straight where they belong; vectorized (a 200 MB
/// file in milliseconds).
ptrdiff_t lockstep_count_breaks(const unsigned char *p, ptrdiff_t n, ptrdiff_t *empty);

/// C = Aᵀ·B, or C += Aᵀ·B when `accumulate`, row-major: A is k×m (row stride `lda`), B is k×n
/// (`ldb`), C is m×n (`ldc`). Each element is a[0][i]·b[0][j] followed by fused multiply-adds over
/// p = 1..<k in order, then (when accumulating) one addition to C: the same bytes on every path.
/// C must not overlap A or B. `scratch` holds `lockstep_gemm_tn_scratch(m, n, k)` floats (the operands, packed). Returns 0,
/// touching nothing, where the CPU lacks AVX2 and FMA (x86-64) or a size is not positive; the
/// caller then uses the BLAS library.
int lockstep_gemm_tn(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                     const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc, float *scratch);

/// Whether this CPU runs `lockstep_gemm_tn` (x86-64: AVX2 and FMA; elsewhere always).
int lockstep_own_kernels(void);

/// Floats of scratch `lockstep_gemm_tn` needs.
ptrdiff_t lockstep_gemm_tn_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k);

/// C = A·Bᵀ, or C += A·Bᵀ when `accumulate`, row-major: A is m×k (`lda`), B is n×k (`ldb`), C is
/// m×n (`ldc`) — a linear layer's forward pass X·Wᵀ over a worker's few rows, the weight read in
/// place. Each element is a[i][0]·b[j][0], fused multiply-adds over p in order, then (when
/// accumulating, onto the bias) one addition. C must not overlap A or B (B is read in place).
/// `scratch` holds `lockstep_gemm_nt_scratch(m, n, k)`
/// floats. Returns 0, touching nothing, where `lockstep_own_kernels()` is 0 or a size is not positive.
int lockstep_gemm_nt(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                     const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc, float *scratch);

/// Floats of scratch `lockstep_gemm_nt` needs.
ptrdiff_t lockstep_gemm_nt_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k);

#endif
