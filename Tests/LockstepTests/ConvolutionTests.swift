import Testing
@testable import Lockstep

/// Convolution, pooling and flattening (issue 10): backward rules against finite differences,
/// forward against the definition, and a CNN trained data-parallel.
@Suite struct ConvolutionBackwardRulesAgreeWithFiniteDifferences {
    let rules = BackwardRulesAgreeWithFiniteDifferences()

    @Test(arguments: [(1, 0, 1, 1, true), (2, 1, 1, 1, true), (1, 1, 2, 1, false), (2, 2, 1, 2, true)])
    func conv2d(stride: Int, padding: Int, dilation: Int, groups: Int, bias: Bool) {
        let x = rules.random(Shape(2, 4, 6, 5), seed: 1)
        let w = rules.random(Shape(6, 4 / groups, 3, 3), seed: 2, scale: 0.5)
        let b = rules.random(Shape(6), seed: 3)
        rules.check(bias ? [x, w, b] : [x, w]) { v, _ in
            rules.weighted(v[0].conv2d(weight: v[1], bias: bias ? v[2] : nil, stride: stride, padding: padding,
                                       dilation: dilation, groups: groups))
        }
    }

    @Test func maxPool2dSendsTheGradientToTheWinner() {
        // Distinct values, far apart: finite differences never change which element wins.
        var x = Tensor(zeros: Shape(2, 3, 6, 6))
        x.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = Float((i * 37) % 216) * 0.05 } }
        rules.check([x]) { v, _ in rules.weighted(v[0].maxPool2d(kernel: 2)) }
        rules.check([x]) { v, _ in rules.weighted(v[0].maxPool2d(kernel: 3, stride: 2)) }
    }

    @Test func averagePoolingSharesTheGradientOverItsWindow() {
        let x = rules.random(Shape(2, 3, 6, 6), seed: 5)
        rules.check([x]) { v, _ in rules.weighted(v[0].avgPool2d(kernel: 2)) }
        rules.check([x]) { v, _ in rules.weighted(v[0].avgPool2d(kernel: 3, stride: 2)) }
        rules.check([x]) { v, _ in rules.weighted(v[0].adaptiveAvgPool2d()) }
    }

    @Test func channelDropoutKeepsOrDropsWholeChannels() {
        let x = rules.random(Shape(3, 8, 4, 4), seed: 6)
        rules.check([x]) { v, _ in rules.weighted(v[0].dropout2d(0.4)) }
        let tape = Tape()
        tape.seed = 11
        let y = tape.input(x).dropout2d(0.5).scalars, xs = x.scalars
        var dropped = 0
        for block in 0..<24 {
            let ratios = (0..<16).map { y[block * 16 + $0] / xs[block * 16 + $0] }
            #expect(ratios.allSatisfy { $0 == 0 } || ratios.allSatisfy { abs($0 - 2) < 1e-6 }, "channel \(block) is mixed: \(ratios)")
            if ratios[0] == 0 { dropped += 1 }
        }
        #expect(dropped > 0 && dropped < 24)
        #expect(Tape(mode: .inference).input(x).dropout2d(0.5).scalars == xs)   // the identity when not training
    }

    @Test func flattenAndReshapeKeepTheOrder() {
        let x = rules.random(Shape(2, 3, 2, 2), seed: 4)
        rules.check([x]) { v, _ in rules.weighted(v[0].flattened()) }
        let tape = Tape()
        let flat = tape.input(x).flattened()
        #expect(flat.shape == Shape(2, 12) && flat.scalars == x.scalars)
    }
}

@Suite struct ConvolutionForward {
    /// The definition, summed directly: y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, g·C/G + c, i·s − p + u·d, j·s − p + v·d].
    func direct(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride: Int, padding: Int, dilation: Int, groups: Int) -> [Float] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, k) = (w.shape[0], w.shape[1], w.shape[2])
        let oh = (h + 2 * padding - dilation * (k - 1) - 1) / stride + 1, ow = (wd + 2 * padding - dilation * (k - 1) - 1) / stride + 1
        let xs = x.scalars, ws = w.scalars, bs = b.scalars
        var y = [Float](repeating: 0, count: n * o * oh * ow)
        for s in 0..<n { for oc in 0..<o { for i in 0..<oh { for j in 0..<ow {
            var total = Double(bs[oc])
            let group = oc / (o / groups)
            for ci in 0..<cg { for u in 0..<k { for v in 0..<k {
                let yy = i * stride - padding + u * dilation, xx = j * stride - padding + v * dilation
                guard yy >= 0 && yy < h && xx >= 0 && xx < wd else { continue }
                total += Double(ws[((oc * cg + ci) * k + u) * k + v]) * Double(xs[((s * c + group * cg + ci) * h + yy) * wd + xx])
            } } }
            y[((s * o + oc) * oh + i) * ow + j] = Float(total)
        } } } }
        return y
    }

    @Test(arguments: [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (1, 1, 1, 3)])
    func matchesTheDefinition(stride: Int, padding: Int, dilation: Int, groups: Int) {
        var rng = RandomGenerator(seed: 8)
        let x = Tensor.normal(Shape(3, 6, 7, 9), using: &rng), w = Tensor.normal(Shape(9, 6 / groups, 3, 3), using: &rng)
        let b = Tensor.normal(Shape(9), using: &rng)
        let tape = Tape(mode: .inference)
        let y = tape.input(x).conv2d(weight: tape.input(w), bias: tape.input(b), stride: stride, padding: padding,
                                      dilation: dilation, groups: groups)
        let expected = direct(x, w, b, stride: stride, padding: padding, dilation: dilation, groups: groups)
        #expect(y.scalars.count == expected.count)
        let difference = relativeDifference(y.scalars, expected)
        #expect(difference <= 1e-5, "‖a − b‖/‖b‖ = \(difference)")
    }

    @Test func poolingLayersComputeMeans() {
        let x = Tensor((0..<32).map(Float.init), shape: Shape(1, 2, 4, 4))
        let tape = Tape(mode: .inference)
        #expect(AvgPool2d(2)(tape.input(x)).scalars == [2.5, 4.5, 10.5, 12.5, 18.5, 20.5, 26.5, 28.5])
        #expect(AdaptiveAvgPool2d()(tape.input(x)).scalars == [7.5, 23.5])
        #expect(MaxPool2d(2)(tape.input(x)).scalars == [5, 7, 13, 15, 21, 23, 29, 31])
        #expect(Identity()(tape.input(x)).scalars == x.scalars)
    }

    @Test func aConv2dLayerIsNamedAndInitializedAsPyTorchsIs() {
        let model = Sequential([Conv2d(1, 4, kernel: 3, padding: 1), ReLU(), MaxPool2d(2), Flatten(), Linear(64, 10)], seed: 1)
        #expect(model.stateDict().mapValues(\.shape) == ["0.weight": Shape(4, 1, 3, 3), "0.bias": Shape(4),
                                                         "4.weight": Shape(10, 64), "4.bias": Shape(10)])
        let weight = model.stateDict()["0.weight"]!.scalars
        #expect(weight.allSatisfy { abs($0) <= 1 / 3 } && Set(weight).count == 36)   // U(±1/√9)
    }
}

/// A small CNN on digits as 1 × 8 × 8 images, through the trainer's factory.
@Suite struct ACNNTrainsDataParallel {
    static let digits: Dataset = {
        let table = try! Dataset.readCSV(at: fixture("digits.csv"))
        var images = table
        images.features = table.features.reshaped(Shape(table.count, 1, 8, 8))
        return images
    }()

    static func cnn() -> Sequential {
        Sequential {
            Conv2d(1, 8, kernel: 3, padding: 1); ReLU(); MaxPool2d(2)
            Conv2d(8, 16, kernel: 3, padding: 1); ReLU(); MaxPool2d(2)
            Flatten(); Linear(64, 10)
        }
    }

    func trainer(_ workers: Int) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: { Self.cnn() }, seed: 3,
                                loss: CrossEntropyLoss(), optimizer: .adam(lr: 3e-3))
    }

    @Test(arguments: [2, 4])
    func nWorkersGiveOneWorkersGradient(workers: Int) throws {
        let rows = Array(0..<64)
        let one = try trainer(1).gradient(of: Self.digits, rows: rows)
        let many = try trainer(workers).gradient(of: Self.digits, rows: rows)
        let difference = relativeDifference(many, one)
        #expect(one.contains { $0 != 0 } && difference <= 1e-5, "relative difference \(difference)")
    }

    @Test func itLearnsTheDigits() throws {
        let split = try Self.digits.split(testFraction: 0.2, seed: 0)
        let t = try trainer(2)
        try t.fit(split.train, epochs: 5, batchSize: 32)
        let accuracy = try Evaluator.evaluate(t.model, on: split.test, loss: CrossEntropyLoss()).accuracy ?? 0
        #expect(accuracy >= 0.9, "test accuracy \(accuracy) after 5 epochs")
    }
}

/// The ops a module's own forward joins and reorders branches with (issue 10).
@Suite struct ShapeOpsBackwardRulesAgreeWithFiniteDifferences {
    let rules = BackwardRulesAgreeWithFiniteDifferences()

    @Test(arguments: [0, 1, 2])
    func concatenation(axis: Int) {
        var other = [2, 3, 4]
        other[axis] = 5
        let a = rules.random(Shape(2, 3, 4), seed: 1), b = rules.random(Shape(other), seed: 2)
        rules.check([a, b]) { v, _ in rules.weighted(v[0].concatenated(with: v[1], axis: axis)) }
        rules.check([a, a, b]) { v, _ in rules.weighted(Variable.concatenate([v[0], v[1], v[2]], axis: axis)) }
    }

    @Test func concatenationLaysThePartsSideBySide() {
        let tape = Tape()
        let a = tape.input(Tensor([[1, 2], [3, 4]])), b = tape.input(Tensor([[5], [6]]))
        #expect(a.concatenated(with: b, axis: 1).scalars == [1, 2, 5, 3, 4, 6])
        #expect(a.concatenated(with: a, axis: 0).scalars == [1, 2, 3, 4, 1, 2, 3, 4])
        _ = a.concatenated(with: b, axis: 0)
        #expect(tape.failure == "cannot concatenate [2, 2] and [2, 1] along axis 0")
    }

    @Test(arguments: [[1, 0], [0, 2, 1], [2, 0, 1], [0, 3, 1, 2], [3, 2, 1, 0]])
    func permutation(order: [Int]) {
        let x = rules.random(Shape(Array([2, 3, 4, 5].prefix(order.count))), seed: 3)
        rules.check([x]) { v, _ in rules.weighted(v[0].permuted(order)) }
    }

    @Test func permutationMovesEachElementWherePyTorchPutsIt() {
        // torch.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)[k, i, j] == 12·i + 4·j + k
        let tape = Tape()
        let y = tape.input(Tensor((0..<24).map(Float.init), shape: Shape(2, 3, 4))).permuted([2, 0, 1])
        #expect(y.shape == Shape(4, 2, 3))
        let values = y.scalars
        for k in 0..<4 { for i in 0..<2 { for j in 0..<3 {
            #expect(values[(k * 2 + i) * 3 + j] == Float(12 * i + 4 * j + k))
        } } }
        _ = tape.input(Tensor(zeros: Shape(2, 2))).permuted([0, 0])
        #expect(tape.failure == "permute of [2, 2] needs an order of 0..<2, got [0, 0]")
    }
}

/// The sequence layers' rules (issue 11 builds on them): an embedding's scatter-add and layer
/// norm over the last dimension of a sequence.
@Suite struct SequenceLayerRulesAgreeWithFiniteDifferences {
    let rules = BackwardRulesAgreeWithFiniteDifferences()

    @Test func embeddingAddsEachRowsGradientIntoItsIdsRow() {
        let ids = Tensor([[1, 3, 3], [0, 3, 2]])
        let table = rules.random(Shape(5, 4), seed: 1)
        rules.check([table], constants: [ids]) { v, c in rules.weighted(c[0].embedding(v[0])) }
        let tape = Tape()
        _ = tape.input(Tensor([5])).embedding(tape.input(table))
        #expect(tape.failure == "embedding: id 5.0 outside 0..<5")
    }

    @Test func layerNormOverTheLastDimensionOfASequence() {
        let x = rules.random(Shape(2, 3, 6), seed: 2)
        let w = rules.random(Shape(6), seed: 3), b = rules.random(Shape(6), seed: 4)
        rules.check([x, w, b]) { v, _ in rules.weighted(v[0].layerNorm(weight: v[1], bias: v[2])) }
    }
}
