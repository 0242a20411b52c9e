import Testing
@testable import Lockstep

/// Every backward rule against centered finite differences (GradientCheck, h = 1e-2 in Float32).
/// Tolerance: |analytic − numeric| / (1 + |numeric|) ≤ 2e-3, well above the ~1e-4 of rounding and
/// truncation, far below the error of any wrong rule. Non-scalar results are reduced with a
/// random weighting, Σ(y ⊙ w), so that every output element contributes differently.
@Suite struct BackwardRulesAgreeWithFiniteDifferences {
    static let tolerance: Float = 2e-3

    func random(_ shape: Shape, seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.normal(shape, std: scale, using: &rng)
    }

    /// Values at least 0.1 away from 0, for rules with a kink there.
    func awayFromZero(_ shape: Shape, seed: UInt64) -> Tensor {
        var t = random(shape, seed: seed)
        t.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = $0[i] >= 0 ? $0[i] + 0.1 : $0[i] - 0.1 } }
        return t
    }

    func weighted(_ y: Variable, seed: UInt64 = 99) -> Variable {
        (y * y.tape.input(random(y.shape, seed: seed))).sum()
    }

    func check(_ inputs: [Tensor], constants: [Tensor] = [], _ f: @escaping ([Variable], [Variable]) -> Variable,
               sourceLocation: SourceLocation = #_sourceLocation) {
        let result = GradientCheck.run(checking: inputs, constants: constants, h: 1e-2, f)
        #expect(result.maxError <= Self.tolerance, "\(result)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func matmul(tA: Bool, tB: Bool) {
        let a = random(tA ? Shape(4, 3) : Shape(3, 4), seed: 1)
        let b = random(tB ? Shape(5, 4) : Shape(4, 5), seed: 2)
        check([a, b]) { x, _ in weighted(x[0].matmul(x[1], transposeA: tA, transposeB: tB)) }
    }

    @Test func linearWithAndWithoutBias() {
        let x = random(Shape(6, 4), seed: 1), w = random(Shape(3, 4), seed: 2), b = random(Shape(3), seed: 3)
        check([x, w, b]) { v, _ in weighted(v[0].linear(weight: v[1], bias: v[2])) }
        check([x, w]) { v, _ in weighted(v[0].linear(weight: v[1], bias: nil)) }
    }

    @Test func linearWithAnEmptyBatchHasZeroGradient() {
        let tape = Tape()
        let w = AlignedBuffer(count: 6), gw = AlignedBuffer(count: 6)
        Kernels.fill(w.base, 6, 0.5)
        let x = tape.input(Tensor(zeros: Shape(0, 3)))
        let y = x.linear(weight: tape.leaf(data: w.base, grad: gw.base, shape: Shape(2, 3)), bias: nil)
        y.sum().backward()
        #expect(y.shape == Shape(0, 2))
        #expect(Array(gw.buffer) == Array(repeating: 0, count: 6))
    }

    @Test func addSubMulWithEveryBroadcast() {
        let a = random(Shape(3, 4), seed: 1)
        for b in [random(Shape(3, 4), seed: 2), random(Shape(4), seed: 3), random(Shape(1, 4), seed: 4), random(Shape(1), seed: 5)] {
            check([a, b]) { v, _ in weighted(v[0] + v[1]) }
            check([a, b]) { v, _ in weighted(v[0] - v[1]) }
            check([a, b]) { v, _ in weighted(v[0] * v[1]) }
        }
    }

    @Test func scaleSumAndMean() {
        let a = random(Shape(3, 4), seed: 1)
        check([a]) { v, _ in weighted(v[0] * 2.5) }
        check([a]) { v, _ in (v[0] * v[0]).sum() }
        check([a]) { v, _ in (v[0] * v[0]).mean() }
    }

    @Test func activations() {
        check([awayFromZero(Shape(4, 5), seed: 1)]) { v, _ in weighted(v[0].relu()) }
        check([random(Shape(4, 5), seed: 2)]) { v, _ in weighted(v[0].tanh()) }
        check([random(Shape(4, 5), seed: 3, scale: 3)]) { v, _ in weighted(v[0].sigmoid()) }
        check([random(Shape(4, 5), seed: 4, scale: 2)]) { v, _ in weighted(v[0].gelu()) }
        check([random(Shape(4, 5), seed: 5, scale: 2)]) { v, _ in weighted(v[0].logSoftmax()) }
    }

    @Test func dropoutScalesTheKeptElements() {
        check([random(Shape(8, 6), seed: 1)]) { v, _ in weighted(v[0].dropout(0.3)) }
    }

    @Test func layerNorm() {
        let x = random(Shape(5, 6), seed: 1, scale: 2), g = random(Shape(6), seed: 2), b = random(Shape(6), seed: 3)
        check([x, g, b]) { v, _ in weighted(v[0].layerNorm(weight: v[1], bias: v[2])) }
    }

    @Test func regressionLosses() {
        let p = random(Shape(6, 2), seed: 1)
        let t = p + awayFromZero(Shape(6, 2), seed: 2) * 0.5   // |p − t| ≥ 0.05: clear of L1's kink
        check([p, t]) { v, _ in v[0].mseLoss(v[1], divisor: 4) }
        check([p, t]) { v, _ in v[0].l1Loss(v[1], divisor: 4) }
        check([p * 3, t]) { v, _ in v[0].huberLoss(v[1], delta: 0.7, divisor: 4) }
    }

    @Test func crossEntropyAgainstClassIndices() {
        let logits = random(Shape(6, 4), seed: 1, scale: 2)
        check([logits], constants: [Tensor([0, 3, 1, 2, 2, 0])]) { v, c in v[0].crossEntropyLoss(c[0], divisor: 6) }
    }

    @Test func binaryCrossEntropyWithLogits() {
        let logits = random(Shape(6, 2), seed: 1, scale: 3)
        check([logits], constants: [Tensor([1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0.3, 0.8], shape: Shape(6, 2))]) { v, c in
            v[0].binaryCrossEntropyWithLogits(c[0], divisor: 6)
        }
    }

    @Test func aChainOfLayersThroughAModel() {
        let x = random(Shape(5, 3), seed: 1), w1 = random(Shape(4, 3), seed: 2), b1 = random(Shape(4), seed: 3)
        let w2 = random(Shape(2, 4), seed: 4), b2 = random(Shape(2), seed: 5)
        check([w1, b1, w2, b2], constants: [x, Tensor([0, 1, 1, 0, 1])]) { v, c in
            c[0].linear(weight: v[0], bias: v[1]).tanh().linear(weight: v[2], bias: v[3]).crossEntropyLoss(c[1], divisor: 5)
        }
    }
}

@Suite struct LossValuesMatchPyTorch {
    func loss(_ body: (Tape) -> Variable) -> Float { body(Tape(mode: .inference)).item }

    @Test func meanReductionWithTheBatchAsDivisor() {
        // torch.nn.MSELoss()(tensor([[1.,2.],[3.,4.]]), tensor([[0.,0.],[0.,0.]])) == 7.5
        let p = Tensor([[1, 2], [3, 4]]), t = Tensor(zeros: Shape(2, 2))
        #expect(loss { MSELoss()($0.input(p), $0.input(t)) } == 7.5)
        #expect(loss { L1Loss()($0.input(p), $0.input(t)) } == 2.5)
        // HuberLoss(delta=1): 0.5, 1.5, 2.5, 3.5 → mean 2.0
        #expect(loss { HuberLoss()($0.input(p), $0.input(t)) } == 2.0)
    }

    @Test func crossEntropyOfUniformLogitsIsLogClasses() {
        let value = loss { CrossEntropyLoss()($0.input(Tensor(zeros: Shape(3, 4))), $0.input(Tensor([0, 1, 2]))) }
        #expect(abs(value - Float(4).logValue) < 1e-6)
    }

    @Test func bceWithLogitsAtZeroIsLogTwo() {
        let value = loss { BCEWithLogitsLoss()($0.input(Tensor(zeros: Shape(2, 1))), $0.input(Tensor([[1], [0]]))) }
        #expect(abs(value - Float(2).logValue) < 1e-6)
    }

    @Test func aGlobalDivisorSplitsTheLossAcrossShards() {
        // Two shards of one batch, each divided by the global 4 rows, add up to the batch's loss.
        let p = Tensor([[1], [2], [3], [4]]), t = Tensor(zeros: Shape(4, 1))
        let whole = loss { MSELoss()($0.input(p), $0.input(t)) }
        let first = loss { MSELoss()($0.input(p.gatherRows([0, 1])), $0.input(t.gatherRows([0, 1])), divisor: 4) }
        let second = loss { MSELoss()($0.input(p.gatherRows([2, 3])), $0.input(t.gatherRows([2, 3])), divisor: 4) }
        #expect(first + second == whole)
    }
}

extension Float {
    var logValue: Float { Float(Foundation.log(Double(self))) }
}
import Foundation
