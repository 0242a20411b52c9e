/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
/// with PyTorch's update rule (`torch.optim.SGD`):
///
///     g ← g + λ·p;  b ← g on the first step, else μ·b + (1 − τ)·g
///     g ← g + μ·b (Nesterov) or b;  p ← p − lr·g
///
/// ```swift
/// let optimizer = SGD(model, lr: 0.01, momentum: 0.9)
/// ```
public final class SGD: Optimizer {
    // One worker's optimizer, stepped on its thread: no run-time exclusivity checks (see Tape).
    @exclusivity(unchecked) public var learningRate: Float
    /// Momentum μ, dampening τ, L2 weight decay λ, and whether momentum is Nesterov's.
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public let range: Range<Int>
    @exclusivity(unchecked) public private(set) var stepCount = 0
    private let store: ParameterStore
    private let momentumBuffer: AlignedBuffer

    /// SGD over `range` of `store`'s flat buffers (the whole store by default). Nesterov needs
    /// momentum > 0 and no dampening.
    public init(_ store: ParameterStore, range: Range<Int>? = nil, lr: Float, momentum: Float = 0,
                dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(lr >= 0 && momentum >= 0 && weightDecay >= 0, "SGD hyperparameters must be non-negative")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and no dampening")
        self.store = store
        self.range = range ?? 0..<store.count
        learningRate = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        momentumBuffer = AlignedBuffer(count: momentum != 0 ? self.range.count : 0)
    }

    /// SGD over a whole model (`torch.optim.SGD(model.parameters(), ...)`).
    public convenience init(_ model: Sequential, lr: Float, momentum: Float = 0, dampening: Float = 0,
                            weightDecay: Float = 0, nesterov: Bool = false) {
        self.init(model.store, lr: lr, momentum: momentum, dampening: dampening, weightDecay: weightDecay, nesterov: nesterov)
    }

    public var gradientBase: UnsafePointer<Float> { UnsafePointer(store.gradients.base) }

    public func step(block: Range<Int>, gradients g: UnsafePointer<Float>) {
        precondition(block.lowerBound >= range.lowerBound && block.upperBound <= range.upperBound, "block outside the optimizer's range")
        let p = store.values.base + block.lowerBound
        let b = momentumBuffer.base + (block.lowerBound - range.lowerBound), n = block.count
        let lr = learningRate, mu = momentum, wd = weightDecay, keep = 1 - dampening
        if mu == 0 {
            for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
        } else if stepCount == 0 {
            for i in 0..<n {
                let d = g[i] + wd * p[i]
                b[i] = d
                p[i] -= lr * (nesterov ? d + mu * d : d)
            }
        } else {
            for i in 0..<n {
                let d = g[i] + wd * p[i]
                b[i] = mu * b[i] + keep * d
                p[i] -= lr * (nesterov ? d + mu * b[i] : b[i])
            }
        }
    }

    public func finishStep() { stepCount += 1 }

    public func zeroGrad() { store.zeroGrad() }

    public func stateDict() -> OptimizerState {
        OptimizerState(stepCount: stepCount, learningRate: learningRate,
                       buffers: momentum != 0 ? ["momentum_buffer": Array(momentumBuffer.buffer)] : [:])
    }

    public func loadStateDict(_ state: OptimizerState) throws {
        if momentum != 0 {
            guard let b = state.buffers["momentum_buffer"], b.count == range.count else {
                throw OptimizerError.stateMismatch("SGD momentum buffer must have \(range.count) elements")
            }
            b.withUnsafeBufferPointer { Kernels.copy($0.baseAddress!, momentumBuffer.base, b.count) }
        }
        stepCount = state.stepCount
        learningRate = state.learningRate
    }
}
