#include "CVector.h"
#include <math.h>

// The definition below has exactly one rounding per fused multiply-add and one per final
// addition: the compiler must not contract a separate multiply and add into one.
#pragma clang fp contract(off)

// A linear layer's two products over a worker's few rows: the weight gradient C (+)= Aᵀ·B
// (`lockstep_gemm_tn`, Gᵀ·X) and the forward pass C (+)= A·Bᵀ (`lockstep_gemm_nt`, X·Wᵀ onto the
// bias). Every element is one chain of fused multiply-adds over the inner dimension in order, so
// the result does not depend on the vector width or on which path (tile, tail, few) computed it.

typedef float lockstep_float8u __attribute__((ext_vector_type(8), aligned(4)));

#if defined(__x86_64__)
#define LOCKSTEP_FMA __attribute__((target("avx2,fma")))
#else
#define LOCKSTEP_FMA
#endif

#define LOCKSTEP_TILE static inline __attribute__((always_inline)) LOCKSTEP_FMA

LOCKSTEP_TILE lockstep_float8 lockstep_load8(const float *p) { return *(const lockstep_float8u *)p; }
LOCKSTEP_TILE void lockstep_store8(float *p, lockstep_float8 v) { *(lockstep_float8u *)p = v; }

LOCKSTEP_TILE lockstep_float8 lockstep_fma8(float a, lockstep_float8 b, lockstep_float8 c) {
    return __builtin_elementwise_fma((lockstep_float8)a, b, c);
}

/// Rows of C in a strip: A is packed this many columns wide (6 rather than 4: twelve sums instead
/// of eight, which were bound by the latency of their chains; 1.1–1.7 × faster on the weight
/// gradients of Benchmarks/kernels' shapes in a first comparison on this project's machine).
#define LOCKSTEP_STRIP 6

/// A tile of a strip's rows of C (A's strip packed, zeros past the last row), `width` 8 or 16
/// columns (B's tile packed that wide); the first `rows` rows are stored. Twelve sums, two
/// columns of B and a broadcast fill fifteen of AVX2's sixteen registers.
LOCKSTEP_TILE void lockstep_tn_tile(int rows, int width, ptrdiff_t k, const float *a, const float *b,
                                    int accumulate, float *c, ptrdiff_t ldc) {
    lockstep_float8 s[LOCKSTEP_STRIP][2];
    for (int r = 0; r < LOCKSTEP_STRIP; r++) {
        for (int h = 0; h < width / 8; h++) s[r][h] = a[r] * lockstep_load8(b + 8 * h);
    }
    for (ptrdiff_t p = 1; p < k; p++) {
        const float *ap = a + LOCKSTEP_STRIP * p, *bp = b + width * p;
        lockstep_float8 v[2];
        for (int h = 0; h < width / 8; h++) v[h] = lockstep_load8(bp + 8 * h);
        for (int r = 0; r < LOCKSTEP_STRIP; r++) {
            for (int h = 0; h < width / 8; h++) s[r][h] = lockstep_fma8(ap[r], v[h], s[r][h]);
        }
    }
    for (int r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        for (int h = 0; h < width / 8; h++) {
            lockstep_float8 v = s[r][h];
            if (accumulate) v += lockstep_load8(cr + 8 * h);
            lockstep_store8(cr + 8 * h, v);
        }
    }
}

/// One element of C the same way, for the columns a tile does not cover.
LOCKSTEP_TILE void lockstep_tn_element(ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                                       int accumulate, float *c) {
    float s = a[0] * b[0];
    for (ptrdiff_t p = 1; p < k; p++) s = fmaf(a[p * lda], b[p * ldb], s);
    *c = accumulate ? *c + s : s;
}

/// Products of at most this many elements (a linear regression's 1 × 1 weight over a shard) are
/// computed element by element: packing them cost more than the arithmetic.
#define LOCKSTEP_FEW 64

/// One element, callable from the entry points (which are compiled for any x86-64, so they may
/// not inline a function built for AVX2 and FMA).
LOCKSTEP_FMA static void lockstep_tn_few(ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                                         int accumulate, float *c) {
    lockstep_tn_element(k, a, lda, b, ldb, accumulate, c);
}

/// The tiles of one strip of `rows` rows of C over B's packed columns `j0..<j1` (`t` their first tile).
LOCKSTEP_TILE void lockstep_tn_strip(int rows, ptrdiff_t j0, ptrdiff_t j1, ptrdiff_t k, const float *strip,
                                     const float *t, int accumulate, float *c, ptrdiff_t ldc) {
    ptrdiff_t j = j0;
    for (; j + 16 <= j1; j += 16, t += 16 * k) lockstep_tn_tile(rows, 16, k, strip, t, accumulate, c + j, ldc);
    for (; j + 8 <= j1; j += 8, t += 8 * k) lockstep_tn_tile(rows, 8, k, strip, t, accumulate, c + j, ldc);
    for (; j < j1; j++, t += k) {
        for (int r = 0; r < rows; r++) lockstep_tn_element(k, strip + r, LOCKSTEP_STRIP, t, 1, accumulate, c + r * ldc + j);
    }
}

LOCKSTEP_FMA static void lockstep_gemm_tn_fma(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                              const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc,
                                              float *scratch) {
    // Both operands packed once, so that the tiles read them in order whatever their strides
    // (rows 16 KiB apart share one L1 set): B tile by tile (k rows of 16, 8 or 1 columns),
    // A in strips of LOCKSTEP_STRIP rows of C, column by column. Packing moves values; it does not round.
    float *packedB = scratch, *packedA = scratch + n * k;
    float *q = packedB;
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16) for (ptrdiff_t p = 0; p < k; p++, q += 16) __builtin_memcpy(q, b + p * ldb + j, 64);
    for (; j + 8 <= n; j += 8) for (ptrdiff_t p = 0; p < k; p++, q += 8) __builtin_memcpy(q, b + p * ldb + j, 32);
    for (; j < n; j++) for (ptrdiff_t p = 0; p < k; p++) *q++ = b[p * ldb + j];
    for (ptrdiff_t i = 0; i < m; i += LOCKSTEP_STRIP) {
        float *strip = packedA + i * k;
        int rows = m - i < LOCKSTEP_STRIP ? (int)(m - i) : LOCKSTEP_STRIP;
        for (ptrdiff_t p = 0; p < k; p++) {
            for (int r = 0; r < LOCKSTEP_STRIP; r++) strip[p * LOCKSTEP_STRIP + r] = r < rows ? a[p * lda + i + r] : 0;
        }
    }
    // Panels of B's columns that stay in L2 while every strip of C's rows passes over them.
    ptrdiff_t width = (1 << 16) / k;
    width = width < 16 ? 16 : width & ~(ptrdiff_t)15;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += width) {
        ptrdiff_t j1 = n - j0 < width ? n : j0 + width;
        const float *t = packedB + j0 * k;   // every tile before a panel is 16 columns wide
        for (ptrdiff_t i = 0; i < m; i += LOCKSTEP_STRIP) {
            const float *strip = packedA + i * k;
            float *ci = c + i * ldc;
            lockstep_tn_strip(m - i < LOCKSTEP_STRIP ? (int)(m - i) : LOCKSTEP_STRIP, j0, j1, k, strip, t, accumulate, ci, ldc);
        }
    }
}

/// A tile of C = A·Bᵀ computed as its transpose: `height` (6 or 12) rows of B, read where they
/// lie (element p of row r at b[r·ldb + p]), the first `rows` of them real, times a tile of A's
/// rows packed `width` (16 or 8) wide — twelve sums either way; element (r, column) goes to
/// c[column·ldc + r], the first `columns` columns stored.
LOCKSTEP_TILE void lockstep_nt_tile(int height, int rows, int width, int columns, ptrdiff_t k, const float *b, ptrdiff_t ldb,
                                    const float *a, int accumulate, float *c, ptrdiff_t ldc) {
    lockstep_float8 s[12][2];
    for (int r = 0; r < height; r++) {
        for (int h = 0; h < width / 8; h++) s[r][h] = b[r * ldb] * lockstep_load8(a + 8 * h);
    }
    for (ptrdiff_t p = 1; p < k; p++) {
        const float *ap = a + width * p;
        lockstep_float8 v[2];
        for (int h = 0; h < width / 8; h++) v[h] = lockstep_load8(ap + 8 * h);
        for (int r = 0; r < height; r++) {
            float x = b[r * ldb + p];
            for (int h = 0; h < width / 8; h++) s[r][h] = lockstep_fma8(x, v[h], s[r][h]);
        }
    }
    // Out of the registers with constant indices (a variable one keeps the sums in memory).
    float out[12][16];
    for (int r = 0; r < height; r++) {
        for (int h = 0; h < width / 8; h++) lockstep_store8(out[r] + 8 * h, s[r][h]);
    }
    for (int column = 0; column < columns; column++) {
        float *e = c + column * ldc;
        for (int r = 0; r < rows; r++) e[r] = accumulate ? e[r] + out[r][column] : out[r][column];
    }
}

LOCKSTEP_FMA static void lockstep_gemm_nt_fma(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                              const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc,
                                              float *scratch) {
    // A (the few rows of a shard) packed in tiles of 16 rows, then one of 8, zeros past the last;
    // B (a layer's weight, rows contiguous) read in place, a strip of rows at a time — 6 rows
    // against tiles of 16, 12 against a lone tile of 8 (twelve sums: six were bound by the
    // latency of their chains) — so the weight is read once per tile of A and never copied; the
    // last strip, shorter, is copied with zeros below it.
    float *packedA = scratch, *q = packedA;
    for (ptrdiff_t i = 0; i < m; i += 16) {
        int width = m - i > 8 ? 16 : 8;
        for (ptrdiff_t p = 0; p < k; p++) {
            for (int w = 0; w < width; w++) *q++ = i + w < m ? a[(i + w) * lda + p] : 0;
        }
    }
    float *tail = q;
    int height = m <= 8 ? 12 : LOCKSTEP_STRIP;
    for (ptrdiff_t j = 0; j < n; j += height) {
        int rows = n - j < height ? (int)(n - j) : height;
        const float *strip = b + j * ldb;
        ptrdiff_t stride = ldb;
        if (rows < height) {
            for (int r = 0; r < height; r++) {
                for (ptrdiff_t p = 0; p < k; p++) tail[r * k + p] = r < rows ? b[(j + r) * ldb + p] : 0;
            }
            strip = tail;
            stride = k;
        }
        if (height == 12) {   // one tile of A, at most 8 rows
            lockstep_nt_tile(12, rows, 8, (int)m, k, strip, stride, packedA, accumulate, c + j, ldc);
            continue;
        }
        const float *t = packedA;
        for (ptrdiff_t i = 0; i < m; i += 16) {
            int columns = m - i < 16 ? (int)(m - i) : 16;
            if (columns > 8) {
                lockstep_nt_tile(LOCKSTEP_STRIP, rows, 16, columns, k, strip, stride, t, accumulate, c + i * ldc + j, ldc);
                t += 16 * k;
            } else {
                lockstep_nt_tile(LOCKSTEP_STRIP, rows, 8, columns, k, strip, stride, t, accumulate, c + i * ldc + j, ldc);
                t += 8 * k;
            }
        }
    }
}

ptrdiff_t lockstep_gemm_nt_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return k * ((m + 7) / 8 * 8 + 12);
}

int lockstep_gemm_nt(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                     const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc, float *scratch) {
    if (m <= 0 || n <= 0 || k <= 0 || !lockstep_own_kernels()) return 0;
    if (m * n <= LOCKSTEP_FEW) {
        for (ptrdiff_t i = 0; i < m; i++) {
            for (ptrdiff_t j = 0; j < n; j++) lockstep_tn_few(k, a + i * lda, 1, b + j * ldb, 1, accumulate, c + i * ldc + j);
        }
        return 1;
    }
    lockstep_gemm_nt_fma(m, n, k, a, lda, b, ldb, accumulate, c, ldc, scratch);
    return 1;
}

ptrdiff_t lockstep_gemm_tn_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return k * (n + (m + LOCKSTEP_STRIP - 1) / LOCKSTEP_STRIP * LOCKSTEP_STRIP);
}

int lockstep_own_kernels(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 1;
#endif
}

int lockstep_gemm_tn(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                     const float *b, ptrdiff_t ldb, int accumulate, float *c, ptrdiff_t ldc, float *scratch) {
    if (m <= 0 || n <= 0 || k <= 0 || !lockstep_own_kernels()) return 0;
    if (m * n <= LOCKSTEP_FEW) {   // a handful of elements: no packing, the same chains
        for (ptrdiff_t i = 0; i < m; i++) {
            for (ptrdiff_t j = 0; j < n; j++) lockstep_tn_few(k, a + i, lda, b + j, ldb, accumulate, c + i * ldc + j);
        }
        return 1;
    }
    lockstep_gemm_tn_fma(m, n, k, a, lda, b, ldb, accumulate, c, ldc, scratch);
    return 1;
}
