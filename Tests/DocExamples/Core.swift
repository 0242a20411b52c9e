// The ```swift examples of the doc comments in Support/, Tensor/, Autograd/ and LockstepBenchmarks, compiled here in a context that gives
// them the names they use (`DocExampleTests` checks that each example's lines appear in this
// folder verbatim). Compiled, never run: several write files, which is the example's point.
import Foundation
import Lockstep
import LockstepBenchmarks

// Support/SHA256.swift
func sha256Example() {
var hash = SHA256()
hash.update(Array("abc".utf8))
hash.hexDigest()   // "ba7816bf…f20015ad"
}

// Support/XXH3.swift
func xxh3Example() {
var hash = XXH3()
hash.update(Array("abc".utf8))
hash.hexDigest()   // "06b05ab6…892f3950"
}

// Autograd/GradientCheck.swift
func gradientCheckExample() {
let result = GradientCheck.run(checking: [Tensor([[0.3, -0.7]])]) { x, _ in x[0].tanh().sum() }
result.maxError <= 1e-3                 // |analytic − numeric| / (1 + |numeric|)
}

// Autograd/Tape.swift
func tapeExample(weight: Parameter) {
let tape = Tape()
let x = tape.input(Tensor([[1, 2]]))
let w = tape.parameter(weight)             // a leaf that requires a gradient
let loss = x.matmul(w, transposeB: true).sum()
loss.backward()                            // weight.grad now holds ∂loss/∂weight
tape.reset()                               // ready for the next step, memory kept
}

// Tensor/BLAS.swift
func blasExample() {
BLAS.stopThreadPool()   // first thing in main, before any thread starts
}

func gemmTransposedAExample() {
let g: [Float] = [1, 2], x: [Float] = [3, 4]   // one row: G is 1×2, X is 1×2
var w = [Float](repeating: 0, count: 4)
BLAS.gemmTransposedA(m: 2, n: 2, k: 1, a: g, lda: 2, b: x, ldb: 2, accumulate: false, c: &w, ldc: 2)
// w == [3, 4, 6, 8]: w[i][j] = g[i] · x[j]
}

func gemmTransposedBExample() {
let x: [Float] = [1, 2], w: [Float] = [3, 4, 5, 6]   // one row of two features; two outputs
var y: [Float] = [0.5, -0.5]                        // the bias
BLAS.gemmTransposedB(m: 1, n: 2, k: 2, a: x, lda: 2, b: w, ldb: 2, accumulate: true, c: &y, ldc: 2)
// y == [11.5, 16.5]: the bias plus x · each row of w
}

// Tensor/RandomGenerator.swift
func randomExample() {
var rng = RandomGenerator(seed: 42)
let u = rng.nextUniform()            // [0, 1)
let z = rng.nextNormal()             // N(0, 1)
let i = Int.random(in: 0..<10, using: &rng)
_ = (u, z, i)
}

func shuffleSwapExample(rng: inout RandomGenerator, rows: inout [[Float]]) {
rng.forEachShuffleSwap(count: rows.count) { i, j in rows.swapAt(i, j) }
}

// Tensor/Kernels.swift
func checkExample(x: Tensor) {
let bad = x.withUnsafeBufferPointer { Kernels.firstIndex(beyond: 1e18, in: $0) }
_ = bad
}

// Tensor/Shape.swift
func shapeExample() {
let s = Shape(32, 4)      // a batch of 32 rows with 4 features
s.count                   // 128
}

// Tensor/Tensor.swift
func tensorExample() {
let x = Tensor([[1, 2], [3, 4]])           // shape [2, 2]
let w = Tensor([0.5, -1], shape: Shape(1, 2))
let y = x.matmul(w, transposeB: true)      // [2, 1]: x · wᵀ
y.scalars                                   // [-1.5, -2.5]
}

// Tensor/TensorMath.swift
func tensorMathExample(x: Tensor, w: Tensor) {
let y = x.matmul(w, transposeB: true)   // x [b, in] · wᵀ, w [out, in] → [b, out]
_ = y
}

// LockstepBenchmarks/ScalingBenchmark.swift
func scalingBenchmarkExample() throws {
let results = try ScalingBenchmark.run(.named("mlp-mnist")!, workers: [1, 2, 4, 8])
_ = results
}

// Autograd/Ops+Shape.swift
func concatenateExample(left: Variable, right: Variable) {
let joined = left.concatenated(with: right, axis: 1)   // channels of both branches
_ = joined
}

// Autograd/Ops+Softmax.swift, Autograd/Ops+Attention.swift
func softmaxAndBatchedMatmulExample(scores: Variable, q: Variable, k: Variable) {
let weights = scores.softmax(axis: -1)      // [N, H, T, T]: each row of scores a distribution
let scores = q.batchedMatmul(k, transposeB: true)   // [B, T, d] · [B, T, d]ᵀ → [B, T, T]
_ = (weights, scores)
}
