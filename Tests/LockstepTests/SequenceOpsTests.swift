import Foundation
import Testing
@testable import Lockstep

/// The sequence-model ops: each backward rule against finite differences (the tolerance of
/// `BackwardRulesAgreeWithFiniteDifferences`), and what each op promises beyond its numbers.
@Suite struct SequenceOpsAgreeWithFiniteDifferences {
    let rules = BackwardRulesAgreeWithFiniteDifferences()

    @Test(arguments: [0, 1, 2, -1])
    func softmaxAndLogSoftmaxAlongAnyAxis(axis: Int) {
        let x = rules.random(Shape(2, 3, 4), seed: 1, scale: 2)
        rules.check([x]) { v, _ in rules.weighted(v[0].softmax(axis: axis)) }
        rules.check([x]) { v, _ in rules.weighted(v[0].logSoftmax(axis: axis)) }
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func batchedMatmul(tA: Bool, tB: Bool) {
        let a = rules.random(tA ? Shape(2, 4, 3) : Shape(2, 3, 4), seed: 2)
        let b = rules.random(tB ? Shape(2, 5, 4) : Shape(2, 4, 5), seed: 3)
        rules.check([a, b]) { v, _ in rules.weighted(v[0].batchedMatmul(v[1], transposeA: tA, transposeB: tB)) }
    }

    @Test(arguments: [false, true])
    func attentionOfEveryHead(causal: Bool) {
        let qkv = rules.random(Shape(2, 5, 12), seed: 4)   // D = 4, two heads of 2
        rules.check([qkv]) { v, _ in rules.weighted(v[0].attention(heads: 2, causal: causal)) }
    }

    @Test func linearOverEveryPositionOfASequence() {
        let x = rules.random(Shape(2, 3, 4), seed: 5), w = rules.random(Shape(5, 4), seed: 6), b = rules.random(Shape(5), seed: 7)
        rules.check([x, w, b]) { v, _ in rules.weighted(v[0].linear(weight: v[1], bias: v[2])) }
    }

    @Test func trailingDimensionsBroadcastOverTheLeadingOnes() {
        let x = rules.random(Shape(2, 3, 4), seed: 8), positions = rules.random(Shape(3, 4), seed: 9), bias = rules.random(Shape(4), seed: 10)
        rules.check([x, positions]) { v, _ in rules.weighted(v[0] + v[1]) }
        rules.check([x, positions]) { v, _ in rules.weighted(v[0] - v[1]) }
        rules.check([x, bias]) { v, _ in rules.weighted(v[0] * v[1]) }
    }

    @Test func crossEntropyOverEveryPosition() {
        let logits = rules.random(Shape(2, 3, 5), seed: 11, scale: 2)
        let targets = Tensor([0, 4, 2, 1, 1, 3], shape: Shape(2, 3))
        rules.check([logits], constants: [targets]) { v, c in v[0].crossEntropyLoss(c[0], divisor: 2) }
    }

    @Test func aTransformerBlockEndToEnd() {
        let block = TransformerBlock(4, heads: 2, hidden: 8)
        let x = rules.random(Shape(2, 3, 4), seed: 12)
        rules.check([x]) { v, _ in rules.weighted(block(v[0])) }
    }
}

@Suite struct SequenceOps {
    func values(_ y: Variable) -> [Float] { y.scalars }

    @Test func softmaxSlicesSumToOne() {
        let tape = Tape(mode: .inference)
        let x = tape.input(Tensor((0..<24).map { Float($0 % 7) - 3 }, shape: Shape(2, 3, 4)))
        let y = values(x.softmax(axis: 1))
        for n in 0..<2 {
            for i in 0..<4 { #expect(abs((0..<3).map { y[n * 12 + $0 * 4 + i] }.reduce(0, +) - 1) < 1e-6) }
        }
    }

    @Test func causalAttentionDoesNotLookAhead() {
        // Changing the last position's query, key and value changes no earlier output.
        let tape = Tape(mode: .inference)
        var a: [Float] = (0..<24).map { (i: Int) -> Float in Float((i * 37) % 11) / 5 - 1 }
        let first = values(tape.input(Tensor(a, shape: Shape(1, 4, 6))).attention(heads: 1, causal: true))
        for i in 18..<24 { a[i] += 3 }
        let second = values(tape.input(Tensor(a, shape: Shape(1, 4, 6))).attention(heads: 1, causal: true))
        #expect(first.count == 8)   // [1, 4, 2]: D = 2
        #expect(Array(first[0..<6]) == Array(second[0..<6]))
        #expect(Array(first[6..<8]) != Array(second[6..<8]))
    }

    @Test func crossEntropyOfUniformLogitsOverASequenceIsLogClasses() {
        let tape = Tape(mode: .inference)
        let loss = tape.input(Tensor(zeros: Shape(3, 4, 256))).crossEntropyLoss(tape.input(Tensor(zeros: Shape(3, 4))), divisor: 3)
        #expect(abs(loss.item - Float(Foundation.log(256.0))) < 1e-5)
    }

    @Test func attentionRefusesProjectionsThatDoNotSplitIntoHeads() {
        let tape = Tape(mode: .inference)
        _ = tape.input(Tensor(zeros: Shape(1, 2, 9))).attention(heads: 2, causal: false)
        #expect(tape.failure?.contains("multiple of 2 heads") == true)
    }

    @Test func positionsTrainOnWholeWindowsAndPlaceShorterOnesForInference() {
        let positions = PositionalEmbedding(4, 2)
        positions.weight.assign(Tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: Shape(4, 2)))
        let inference = Tape(mode: .inference)
        #expect(values(positions(inference.input(Tensor(zeros: Shape(1, 3, 2))))) == [1, 2, 3, 4, 5, 6])
        let training = Tape()
        _ = positions(training.input(Tensor(zeros: Shape(1, 3, 2))))
        #expect(training.failure?.contains("whole sequences") == true)
    }
}
