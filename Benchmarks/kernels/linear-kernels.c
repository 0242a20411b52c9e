// Lockstep's own linear-layer kernels (Sources/CVector/gemm.c) against OpenBLAS's sgemm on the
// shapes a worker's shard gives: the weight gradient Gᵀ·X (k = shard rows) and the forward pass
// X·Wᵀ + bias (m = shard rows). OpenBLAS is timed as BLAS.gemm calls it (C cleared, then β = 1;
// the bias copied into each row, then β = 1). Best of 5 rounds, each long enough for ~0.5 GFLOP.
// Build and run: Benchmarks/kernels/run.sh
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "CVector.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *values(long count) {
    float *p = malloc(4 * (size_t)count);
    for (long i = 0; i < count; i++) p[i] = rand() / (float)RAND_MAX - 0.5f;
    return p;
}

static void report(const char *what, int m, int n, int k, double blas, double own) {
    double flops = 2.0 * m * n * k;
    printf("%-8s m %5d n %5d k %5d   OpenBLAS %10.2f µs (%5.1f GFLOP/s)   own %10.2f µs (%5.1f GFLOP/s)   own ÷ OpenBLAS %.2f\n",
           what, m, n, k, blas * 1e6, flops / blas * 1e-9, own * 1e6, flops / own * 1e-9, own / blas);
}

int main(void) {
    openblas_set_num_threads(1);
    // Weight gradients: m outputs, n inputs, k shard rows (mlp-small, mlp-mnist, mlp-large layers).
    int gradients[][3] = {{1, 1, 8}, {128, 64, 8}, {10, 128, 8}, {128, 64, 32}, {256, 784, 16}, {256, 256, 16},
                          {256, 784, 64}, {4096, 1024, 32}, {4096, 4096, 32}, {1024, 4096, 32}, {4096, 4096, 128}};
    for (size_t s = 0; s < sizeof gradients / sizeof *gradients; s++) {
        int m = gradients[s][0], n = gradients[s][1], k = gradients[s][2];
        float *a = values((long)k * m), *b = values((long)k * n), *c = malloc(4L * m * n);
        float *scratch = malloc(4 * (size_t)lockstep_gemm_tn_scratch(m, n, k));
        int reps = (int)(5e8 / (2.0 * m * n * k)) + 1;
        double blas = 1e9, own = 1e9;
        for (int round = 0; round < 5; round++) {
            double t = now();
            for (int r = 0; r < reps; r++) {
                memset(c, 0, 4L * m * n);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1, a, m, b, n, 1, c, n);
            }
            t = (now() - t) / reps; if (t < blas) blas = t;
            t = now();
            for (int r = 0; r < reps; r++) lockstep_gemm_tn(m, n, k, a, m, b, n, 0, c, n, scratch);
            t = (now() - t) / reps; if (t < own) own = t;
        }
        report("Gᵀ·X", m, n, k, blas, own);
        free(a); free(b); free(c); free(scratch);
    }
    // Forward passes: m shard rows, n outputs, k inputs.
    int forwards[][3] = {{8, 1, 1}, {8, 128, 64}, {8, 10, 128}, {32, 128, 64}, {16, 256, 784}, {16, 256, 256},
                         {64, 256, 784}, {32, 4096, 1024}, {32, 4096, 4096}, {32, 1024, 4096}, {128, 4096, 4096}};
    for (size_t s = 0; s < sizeof forwards / sizeof *forwards; s++) {
        int m = forwards[s][0], n = forwards[s][1], k = forwards[s][2];
        float *x = values((long)m * k), *w = values((long)n * k), *bias = values(n), *y = malloc(4L * m * n);
        float *scratch = malloc(4 * (size_t)lockstep_gemm_nt_scratch(m, n, k));
        int reps = (int)(5e8 / (2.0 * m * n * k)) + 1;
        double blas = 1e9, own = 1e9;
        for (int round = 0; round < 5; round++) {
            double t = now();
            for (int r = 0; r < reps; r++) {
                for (int i = 0; i < m; i++) memcpy(y + (long)i * n, bias, 4L * n);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, x, k, w, k, 1, y, n);
            }
            t = (now() - t) / reps; if (t < blas) blas = t;
            t = now();
            for (int r = 0; r < reps; r++) {
                for (int i = 0; i < m; i++) memcpy(y + (long)i * n, bias, 4L * n);
                lockstep_gemm_nt(m, n, k, x, k, w, k, 1, y, n, scratch);
            }
            t = (now() - t) / reps; if (t < own) own = t;
        }
        report("X·Wᵀ+b", m, n, k, blas, own);
        free(x); free(w); free(bias); free(y); free(scratch);
    }
    return 0;
}
