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
                    BLAS.ownTransposedA(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: &c, ldc: ldc) { count in
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
                    BLAS.ownTransposedA(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: &own, ldc: ldc, scratch: nil)
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
                    BLAS.ownTransposedB(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: &c, ldc: ldc, scratch: nil)
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

    /// The public products take each shape to the own kernel or to OpenBLAS as the rules say, and
    /// give that one's bytes: the shards of the benchmark workloads at 1 to 8 workers.
    @Test func eachShapeGoesWhereTheRulesSay() {
        var rng = RandomGenerator(seed: 12)
        let layers = [(1, 1), (64, 128), (128, 10), (784, 256), (256, 256), (256, 10), (1024, 512)]
        var own = 0, blas = 0
        for (inputs, outputs) in layers {
            for rows in [8, 16, 32, 64, 128, 256] {
                let x = values(rows * inputs, &rng), w = values(outputs * inputs, &rng), g = values(rows * outputs, &rng)
                var y = [Float](repeating: 0.25, count: rows * outputs), expectedY = y
                BLAS.gemmTransposedB(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs, accumulate: true, c: &y, ldc: outputs)
                if BLAS.ownKernelTakesTransposedB(m: rows, n: outputs, k: inputs) {
                    own += 1
                    expectedY = referenceForward(m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs, c: expectedY, ldc: outputs, accumulate: true)
                } else {
                    blas += 1
                    BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs,
                              beta: 1, c: &expectedY, ldc: outputs)
                }
                #expect(y == expectedY, "forward, \(rows) rows through \(inputs) → \(outputs)")
                var dw = [Float](repeating: 0, count: outputs * inputs), expectedW = dw
                BLAS.gemmTransposedA(m: outputs, n: inputs, k: rows, a: g, lda: outputs, b: x, ldb: inputs, accumulate: false, c: &dw, ldc: inputs)
                if BLAS.ownKernelTakesTransposedA(m: outputs, n: inputs, k: rows) {
                    own += 1
                    expectedW = reference(m: outputs, n: inputs, k: rows, a: g, lda: outputs, b: x, ldb: inputs, c: expectedW, ldc: inputs, accumulate: false)
                } else {
                    blas += 1
                    BLAS.gemm(transposeA: true, transposeB: false, m: outputs, n: inputs, k: rows, a: g, lda: outputs, b: x, ldb: inputs,
                              beta: 0, c: &expectedW, ldc: inputs)
                }
                #expect(dw == expectedW, "weight gradient, \(rows) rows through \(inputs) → \(outputs)")
            }
        }
        #expect(own > 0 && blas > 0, "both libraries take some of these shapes")
        #expect(BLAS.ownKernelTakesTransposedB(m: 32, n: 4096, k: 4096) && BLAS.ownKernelTakesTransposedA(m: 4096, n: 4096, k: 32),
                "mlp-large's shards at 8 workers run on the own kernels")
        #expect(!BLAS.ownKernelTakesTransposedB(m: 32, n: 128, k: 64) && !BLAS.ownKernelTakesTransposedA(m: 128, n: 64, k: 32),
                "mlp-small's at 2 workers on OpenBLAS, which was faster there")
    }

    /// Shapes the sweeps above leave out: one row of C through the tiles, B wide enough for two
    /// panels, twelve-row strips of B read in place against 8 rows or fewer, stale scratch.
    @Test func wideAndSingleRowShapesKeepTheDefinition() {
        var rng = RandomGenerator(seed: 13)
        for (m, n, k) in [(1, 65, 3), (1, 300, 256), (7, 300, 256), (2, 1000, 70)] {
            let a = values(k * m, &rng), b = values(k * n, &rng), before = values(m * n, &rng)
            var c = before
            BLAS.ownTransposedA(m: m, n: n, k: k, a: a, lda: m, b: b, ldb: n, accumulate: true, c: &c, ldc: n, scratch: nil)
            #expect(c == reference(m: m, n: n, k: k, a: a, lda: m, b: b, ldb: n, c: before, ldc: n, accumulate: true), "Gᵀ·X \(m)×\(n) over \(k)")
        }
        for (m, n, k) in [(1, 65, 5), (3, 24, 9), (8, 25, 40), (8, 37, 1), (9, 30, 7)] {
            let a = values(m * k, &rng), b = values(n * k, &rng), bias = values(m * n, &rng)
            var c = bias
            var room: UnsafeMutablePointer<Float>?
            BLAS.ownTransposedB(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, accumulate: true, c: &c, ldc: n) { count in
                room = .allocate(capacity: count)
                room!.initialize(repeating: .nan, count: count)
                return room!
            }
            room?.deallocate()
            #expect(c == referenceForward(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: bias, ldc: n, accumulate: true), "X·Wᵀ \(m)×\(n) over \(k)")
        }
    }
}
