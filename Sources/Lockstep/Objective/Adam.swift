import CVector
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Adam, and AdamW with `decoupled: true`, with PyTorch's update rule and defaults
/// (`torch.optim.Adam`, `torch.optim.AdamW`):
///
///     Adam: g ← g + λ·p          AdamW: p ← p·(1 − lr·λ)
///     m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// ```swift
/// let optimizer = Adam(model, lr: 1e-3)
/// let decoupled = Adam.adamW(model, lr: 1e-3, weightDecay: 0.01)
/// ```
public final class Adam: Optimizer {
    // One worker's optimizer, stepped on its thread: no run-time exclusivity checks (see Tape).
    @exclusivity(unchecked) public var learningRate: Float
    /// The moving-average coefficients β₁ and β₂ of the gradient and its square, the term ε added
    /// to the denominator, and the weight decay λ (L2, or decoupled for AdamW).
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// AdamW: weight decay applied to the parameters, not added to the gradient.
    public let decoupled: Bool
    public let range: Range<Int>
    @exclusivity(unchecked) public private(set) var stepCount = 0
    private let store: ParameterStore
    private let m: AlignedBuffer, v: AlignedBuffer

    /// Adam over `range` of `store`'s flat buffers (the whole store by default); `decoupled` makes it
    /// AdamW. State buffers are allocated for `range` only.
    public init(_ store: ParameterStore, range: Range<Int>? = nil, lr: Float = 1e-3,
                betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8, weightDecay: Float = 0,
                decoupled: Bool = false) {
        precondition(lr >= 0 && eps >= 0 && weightDecay >= 0, "Adam hyperparameters must be non-negative")
        precondition((0..<1).contains(betas.0) && (0..<1).contains(betas.1), "Adam betas must be in [0, 1)")
        self.store = store
        self.range = range ?? 0..<store.count
        learningRate = lr
        (beta1, beta2) = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = AlignedBuffer(count: self.range.count)
        v = AlignedBuffer(count: self.range.count)
    }

    /// Adam over a whole model (`torch.optim.Adam(model.parameters())`).
    public convenience init(_ model: Sequential, lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                            eps: Float = 1e-8, weightDecay: Float = 0) {
        self.init(model.store, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay)
    }

    /// AdamW over a whole model, with PyTorch's default weight decay 0.01.
    public static func adamW(_ model: Sequential, lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                             eps: Float = 1e-8, weightDecay: Float = 1e-2) -> Adam {
        Adam(model.store, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: true)
    }

    public var gradientBase: UnsafePointer<Float> { UnsafePointer(store.gradients.base) }

    public func step(block: Range<Int>, gradients g: UnsafePointer<Float>) {
        precondition(block.lowerBound >= range.lowerBound && block.upperBound <= range.upperBound, "block outside the optimizer's range")
        let t = Double(stepCount + 1)
        let bc1 = 1 - pow(Double(beta1), t), bc2 = 1 - pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / bc1), bc2Root = Float(bc2.squareRoot())
        let offset = block.lowerBound - range.lowerBound
        let p = store.values.base + block.lowerBound
        let m = self.m.base + offset, v = self.v.base + offset, n = block.count
        let b1 = beta1, b2 = beta2, eps = eps
        let l2: Float = decoupled ? 0 : weightDecay
        let shrink: Float = decoupled ? 1 - learningRate * weightDecay : 1
        // Eight lanes at a time (the scalar loop's square root and division ran one element per
        // instruction: a fifth of the digits recipe's time); the same operations in the same order,
        // each correctly rounded in a lane as in a scalar, so the bytes are the scalar loop's. The
        // square root goes through CVector: SIMD8's own is eight scalar ones.
        typealias V = SIMD8<Float>
        var i = 0
        while i + 8 <= n {
            let raw = (p: UnsafeMutableRawPointer(p + i), m: UnsafeMutableRawPointer(m + i), v: UnsafeMutableRawPointer(v + i))
            let pi = raw.p.loadUnaligned(as: V.self) * shrink
            let grad = UnsafeRawPointer(g + i).loadUnaligned(as: V.self) + l2 * pi
            let mi = b1 * raw.m.loadUnaligned(as: V.self) + (1 - b1) * grad
            let vi = b2 * raw.v.loadUnaligned(as: V.self) + (1 - b2) * grad * grad
            raw.m.storeBytes(of: mi, as: V.self)
            raw.v.storeBytes(of: vi, as: V.self)
            raw.p.storeBytes(of: pi - stepSize * mi / (lockstep_sqrt8(vi) / bc2Root + eps), as: V.self)
            i += 8
        }
        while i < n {
            p[i] *= shrink
            let grad = g[i] + l2 * p[i]
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            p[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Root + eps)
            i += 1
        }
    }

    public func finishStep() { stepCount += 1 }

    public func zeroGrad() { store.zeroGrad() }

    public func stateDict() -> OptimizerState {
        OptimizerState(stepCount: stepCount, learningRate: learningRate,
                       buffers: ["exp_avg": Array(m.buffer), "exp_avg_sq": Array(v.buffer)])
    }

    public func loadStateDict(_ state: OptimizerState) throws {
        for (name, buffer) in [("exp_avg", m), ("exp_avg_sq", v)] {
            guard let b = state.buffers[name], b.count == range.count else {
                throw OptimizerError.stateMismatch("Adam \(name) must have \(range.count) elements")
            }
            b.withUnsafeBufferPointer { Kernels.copy($0.baseAddress!, buffer.base, b.count) }
        }
        stepCount = state.stepCount
        learningRate = state.learningRate
    }
}
