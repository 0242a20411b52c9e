import Testing
@testable import Lockstep

/// The first steps of each optimizer equal PyTorch 2.15's on the same problem:
/// p = [1, −2], loss = Σ p ⊙ [0.5, 1.5] + 0.1·Σ p², three steps. The expected values were
/// printed by torch.optim (the script is in the test's comment) and are rounded to 7 digits.
///
///     p = torch.nn.Parameter(torch.tensor([1.0, -2.0])); opt = torch.optim.X([p], ...)
///     for _ in range(3): opt.zero_grad(); ((p * torch.tensor([0.5, 1.5])).sum()
///                        + (p * p).sum() * 0.1).backward(); opt.step(); print(p)
@Suite struct OptimizersFollowPyTorch {
    /// Runs three steps of `make(store)` and returns p after each.
    func trajectory(_ make: (ParameterStore) -> any Optimizer) -> [[Float]] {
        let p = Parameter(name: "p", shape: Shape(2))
        let store = ParameterStore(binding: [p])
        p.assign(Tensor([1, -2]))
        let optimizer = make(store)
        let tape = Tape()
        var out: [[Float]] = []
        for _ in 0..<3 {
            tape.reset()
            let x = tape.parameter(p)
            let loss = (x * tape.input(Tensor([0.5, 1.5]))).sum() + (x * x).sum() * 0.1
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
            out.append(p.tensor.scalars)
        }
        return out
    }

    func expectClose(_ got: [[Float]], _ expected: [[Float]], sourceLocation: SourceLocation = #_sourceLocation) {
        for (g, e) in zip(got.joined(), expected.joined()) {
            #expect(abs(g - e) <= 2e-6, "got \(got), PyTorch \(expected)", sourceLocation: sourceLocation)
        }
    }

    @Test func plainSGD() {
        expectClose(trajectory { SGD($0, lr: 0.1) },
                    [[0.93, -2.1099999], [0.8614, -2.2177999], [0.794172, -2.3234439]])
    }

    @Test func sgdWithMomentum() {
        expectClose(trajectory { SGD($0, lr: 0.1, momentum: 0.9) },
                    [[0.93, -2.1099999], [0.7984, -2.3167999], [0.613992, -2.6065838]])
    }

    @Test func sgdWithNesterovAndWeightDecay() {
        expectClose(trajectory { SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) },
                    [[0.8651, -2.2052], [0.6780725, -2.4896924], [0.4490431, -2.8380752]])
    }

    @Test func sgdWithDampening() {
        expectClose(trajectory { SGD($0, lr: 0.1, momentum: 0.9, dampening: 0.5) },
                    [[0.93, -2.1099999], [0.8327, -2.2628999], [0.711803, -2.4528809]])
    }

    @Test func adam() {
        expectClose(trajectory { Adam($0, lr: 0.1) },
                    [[0.9, -2.0999999], [0.800086, -2.1999478], [0.7003189, -2.2998078]])
    }

    @Test func adamWithL2WeightDecay() {
        expectClose(trajectory { Adam($0, lr: 0.1, weightDecay: 0.1) },
                    [[0.9, -2.0999999], [0.8001179, -2.1998973], [0.7004386, -2.2996185]])
    }

    @Test func adamWDecouplesWeightDecay() {
        expectClose(trajectory { OptimizerSpec.adamW(lr: 0.1).make(for: $0) },
                    [[0.899, -2.098], [0.798188, -2.1958511], [0.6976253, -2.2935185]])
    }

    @Test func aShardedOptimizerStepsOnlyItsRange() {
        let p = Parameter(name: "p", shape: Shape(40))
        let store = ParameterStore(binding: [p])
        Kernels.fill(store.gradients.base, store.count, 1)
        let optimizer = SGD(store, range: 16..<32, lr: 0.5)
        optimizer.step()
        let values = p.tensor.scalars
        #expect(values[0..<16].allSatisfy { $0 == 0 })
        #expect(values[16..<32].allSatisfy { $0 == -0.5 })
        #expect(values[32...].allSatisfy { $0 == 0 })
    }

    @Test(arguments: [OptimizerSpec.sgd(lr: 0.1, momentum: 0.9), .adam(lr: 0.1), .adamW(lr: 0.1)])
    func stateRestoresTheTrajectory(spec: OptimizerSpec) throws {
        // Two steps, save, a third step; a fresh optimizer loaded with the state takes the same third step.
        let p = Parameter(name: "p", shape: Shape(3))
        let store = ParameterStore(binding: [p])
        p.assign(Tensor([1, 2, 3]))
        let first = spec.make(for: store)
        for i in 0..<2 { Kernels.fill(store.gradients.base, 3, Float(i) + 0.5); first.step() }
        let saved = first.stateDict(), savedValues = p.tensor
        Kernels.fill(store.gradients.base, 3, 0.25)
        first.step()
        let expected = p.tensor.scalars
        p.assign(savedValues)
        let second = spec.make(for: store)
        try second.loadStateDict(saved)
        Kernels.fill(store.gradients.base, 3, 0.25)
        second.step()
        #expect(bits(p.tensor.scalars) == bits(expected))
        #expect(second.stepCount == 3)
    }

    @Test func stateOfTheWrongSizeIsRefused() {
        let store = ParameterStore(binding: [Parameter(name: "p", shape: Shape(3))])
        let optimizer = Adam(store)
        #expect(throws: OptimizerError.self) {
            try optimizer.loadStateDict(OptimizerState(stepCount: 1, learningRate: 0.1, buffers: ["exp_avg": [0], "exp_avg_sq": [0]]))
        }
    }
}

@Suite struct SchedulesAndClipping {
    @Test func stepDecay() {
        let s = LRSchedule(base: 1, kind: .step(every: 10, gamma: 0.5))
        #expect(s.learningRate(atStep: 0) == 1)
        #expect(s.learningRate(atStep: 9) == 1)
        #expect(s.learningRate(atStep: 10) == 0.5)
        #expect(s.learningRate(atStep: 25) == 0.25)
    }

    @Test func cosineAnnealsToTheMinimum() {
        let s = LRSchedule(base: 1, kind: .cosine(totalSteps: 100, minimum: 0.1))
        #expect(s.learningRate(atStep: 0) == 1)
        #expect(abs(s.learningRate(atStep: 50) - 0.55) < 1e-6)
        #expect(abs(s.learningRate(atStep: 100) - 0.1) < 1e-6)
        #expect(abs(s.learningRate(atStep: 500) - 0.1) < 1e-6)
    }

    @Test func linearWarmupThenTheSchedule() {
        let s = LRSchedule(base: 0.4, kind: .step(every: 5, gamma: 0.1), warmupSteps: 4)
        #expect([0, 1, 2, 3].map { s.learningRate(atStep: $0) } == [0.1, 0.2, 0.3, 0.4])
        #expect(s.learningRate(atStep: 4) == 0.4)
        #expect(abs(s.learningRate(atStep: 9) - 0.04) < 1e-7)
    }

    @Test func clippingScalesToTheMaximumNorm() {
        var g: [Float] = [3, 4]
        let norm = g.withUnsafeMutableBufferPointer { GradientClipping.clipNorm($0, maxNorm: 1) }
        #expect(norm == 5)
        #expect(abs(g[0] - 0.6) < 1e-6 && abs(g[1] - 0.8) < 1e-6)
        var small: [Float] = [0.3, 0.4]
        small.withUnsafeMutableBufferPointer { _ = GradientClipping.clipNorm($0, maxNorm: 1) }
        #expect(small == [0.3, 0.4])
    }
}
