import Testing
@testable import Lockstep

/// A linear layer's weight gradient Gᵀ·X and its forward pass X·Wᵀ run on Lockstep's own kernels
/// for a worker's short shard: every element is the first product, then fused multiply-adds over
/// the inner dimension in order, then (when accumulating) one addition — whatever the shape,
/// stride, tile or tail that computed it. So N workers give the same bytes on any number of threads.
@Suite(.enabled(if: BLAS.ownKernels, "the kernels need AVX2 and FMA on x86-64"))
struct LinearLayerKernels {
    /// The definition, one element at a time.
    func reference(m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int, c: [Float], ldc: Int, accumulate: Bool) -> [Float] {
        var c = c
        for i in 0..<m {
            for j in 0..<n {
                var s = a[i] * b[j]
                for p in 1..<k { s = s.addingProduct(a[p * lda + i], b[p * ldb + j]) }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s
            }
        }
        return c
    }

    func values(_ count: Int, _ rng: inout RandomGenerator) -> [Float] { (0..<count).map { _ in rng.nextNormal() } }

    @Test(arguments: [1, 2, 5, 6, 7, 13, 19])
    func everyElementIsOneFusedChainOverTheRowsInOrder(m: Int) {
        var rng = RandomGenerator(seed: UInt64(m))
        for n in [1, 7, 8, 9, 15, 16, 17, 33, 50] {
            for k in [1, 2, 3, 16, 33, 256] {
                for (pad, accumulate) in [(0, false), (3, true), (5, false)] {
                    let lda = m + pad, ldb = n + pad, ldc = n + 2 * pad
                    let a = values(k * lda, &rng), b = values(k * ldb, &rng), before = values(m * ldc, &rng)
                    var c = before, lent = 0
                    var room: UnsafeMutablePointer<Float>?
                    BLAS.gemmTransposedA(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: &c, ldc: ldc) { count in
                        lent = count
                        room = .allocate(capacity: count)
                        room!.initialize(repeating: .nan, count: count)   // stale contents must not matter
                        return room!
                    }
                    room?.deallocate()
                    let expected = reference(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: before, ldc: ldc, accumulate: accumulate)
                    #expect(c == expected, "m \(m) n \(n) k \(k) pad \(pad) accumulate \(accumulate)")
                    #expect(lent >= k * (m + n), "the scratch holds both packed operands")
                    var own = before   // the call's own scratch gives the same bytes
                    BLAS.gemmTransposedA(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: &own, ldc: ldc)
                    #expect(own == expected)
                }
            }
        }
    }

    @Test func longerShardsGoToOpenBLASAndNoRowsWriteZerosOrNothing() {
        var rng = RandomGenerator(seed: 9)
        let m = 5, n = 11, k = BLAS.ownKernelInnerLimit + 1
        let a = values(k * m, &rng), b = values(k * n, &rng), before = values(m * n, &rng)
        for accumulate in [false, true] {
            var c = before, blas = before
            BLAS.gemmTransposedA(m: m, n: n, k: k, a: a, lda: m, b: b, ldb: n, accumulate: accumulate, c: &c, ldc: n)
            BLAS.gemm(transposeA: true, transposeB: false, m: m, n: n, k: k, a: a, lda: m, b: b, ldb: n,
                      beta: accumulate ? 1 : 0, c: &blas, ldc: n)
            #expect(c == blas)
            var empty = before
            BLAS.gemmTransposedA(m: m, n: n, k: 0, a: a, lda: m, b: b, ldb: n, accumulate: accumulate, c: &empty, ldc: n)
            #expect(empty == (accumulate ? before : [Float](repeating: 0, count: m * n)))
        }
    }

    /// C = A·Bᵀ by the definition: A is m×k, B is n×k.
    func referenceForward(m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int, c: [Float], ldc: Int, accumulate: Bool) -> [Float] {
        var c = c
        for i in 0..<m {
            for j in 0..<n {
                var s = a[i * lda] * b[j * ldb]
                for p in 1..<k { s = s.addingProduct(a[i * lda + p], b[j * ldb + p]) }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s
            }
        }
        return c
    }

    @Test(arguments: [1, 5, 8, 9, 16, 17, 31, 33, 128])
    func theForwardPassIsOneFusedChainPerOutputOverTheFeaturesInOrder(rows m: Int) {
        var rng = RandomGenerator(seed: UInt64(100 + m))
        for n in [1, 5, 6, 7, 13] {
            for k in [1, 2, 17, 300] {
                for (pad, accumulate) in [(0, true), (2, false)] {
                    let lda = k + pad, ldb = k + 2 * pad, ldc = n + pad
                    let a = values(m * lda, &rng), b = values(n * ldb, &rng), bias = values(m * ldc, &rng)
                    var c = bias
                    BLAS.gemmTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: &c, ldc: ldc)
                    let expected = referenceForward(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: bias, ldc: ldc, accumulate: accumulate)
                    #expect(c == expected, "rows \(m) outputs \(n) features \(k) pad \(pad) accumulate \(accumulate)")
                }
            }
        }
    }

    @Test func moreRowsGoToOpenBLAS() {
        var rng = RandomGenerator(seed: 10)
        let m = BLAS.ownKernelRowLimit + 1, n = 7, k = 9
        let a = values(m * k, &rng), b = values(n * k, &rng), before = values(m * n, &rng)
        var c = before, blas = before
        BLAS.gemmTransposedB(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, accumulate: true, c: &c, ldc: n)
        BLAS.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 1, c: &blas, ldc: n)
        #expect(c == blas)
    }

    /// A product whose packed operands would pass `ownKernelScratchLimit` (a layer a million
    /// features wide) goes to OpenBLAS, which packs in blocks, instead of taking that memory.
    @Test func productsTooWideToPackGoToOpenBLAS() {
        var rng = RandomGenerator(seed: 11)
        let k = BLAS.ownKernelInnerLimit, m = 1, n = BLAS.ownKernelScratchLimit / k + 1
        let g = values(k * m, &rng), x = values(k * n, &rng)
        var w = [Float](repeating: 0, count: m * n), blas = w
        BLAS.gemmTransposedA(m: m, n: n, k: k, a: g, lda: m, b: x, ldb: n, accumulate: false, c: &w, ldc: n)
        BLAS.gemm(transposeA: true, transposeB: false, m: m, n: n, k: k, a: g, lda: m, b: x, ldb: n, beta: 0, c: &blas, ldc: n)
        #expect(w == blas)
        let rows = 2, features = BLAS.ownKernelScratchLimit / 8 + 1, outputs = 3
        let a = values(rows * features, &rng), b = values(outputs * features, &rng)
        var y = [Float](repeating: 0, count: rows * outputs), yBLAS = y
        BLAS.gemmTransposedB(m: rows, n: outputs, k: features, a: a, lda: features, b: b, ldb: features, accumulate: false, c: &y, ldc: outputs)
        BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outputs, k: features, a: a, lda: features, b: b, ldb: features,
                  beta: 0, c: &yBLAS, ldc: outputs)
        #expect(y == yBLAS)
    }
}
