/// Updates parameters from their gradients (pillar 3).
///
/// An optimizer steps one contiguous range of a model's flat parameter buffer: the whole model by
/// default, or one worker's shard in the data-parallel engine (so its state is sharded too).
///
/// ```swift
/// let optimizer = SGD(model, lr: 0.01, momentum: 0.9)
/// optimizer.zeroGrad()
/// loss.backward()
/// optimizer.step()
/// ```
public protocol Optimizer: AnyObject {
    /// The learning rate the next `step` uses (schedules set it).
    var learningRate: Float { get set }
    /// Steps taken so far.
    var stepCount: Int { get }
    /// The range of the flat buffers this optimizer updates.
    var range: Range<Int> { get }
    /// Updates `values[block]` (a part of `range`) from the gradients at `gradients` (the
    /// gradient of `block.lowerBound` first), as part of the current step; `finishStep()` ends
    /// the step. The engine feeds each block straight from its reduce-scatter.
    func step(block: Range<Int>, gradients: UnsafePointer<Float>)
    /// Ends a step made of `step(block:gradients:)` calls.
    func finishStep()
    /// Sets the gradients of the whole model to zero (PyTorch's `optimizer.zero_grad()`).
    func zeroGrad()
    /// The start of the flat gradient buffer this optimizer reads by default.
    var gradientBase: UnsafePointer<Float> { get }
    /// Its state (step count and per-element buffers), to save and restore.
    func stateDict() -> OptimizerState
    /// Restores a state from `stateDict()`; throws `OptimizerError.stateMismatch` when its
    /// buffers do not fit `range`.
    func loadStateDict(_ state: OptimizerState) throws
}

/// An optimizer's state: the step count and its named per-element buffers over `range`.
public struct OptimizerState: Codable, Equatable, Sendable {
    /// Steps taken when the state was saved.
    public var stepCount: Int
    /// The learning rate in use when the state was saved.
    public var learningRate: Float
    /// Per-element buffers by PyTorch's names ("exp_avg", "momentum_buffer"), each `range.count` long.
    public var buffers: [String: [Float]]
    /// A state from its parts.
    public init(stepCount: Int, learningRate: Float, buffers: [String: [Float]]) {
        self.stepCount = stepCount
        self.learningRate = learningRate
        self.buffers = buffers
    }
}

extension Optimizer {
    /// Applies one update to `values[range]` from `gradients[range]`.
    public func step() {
        step(block: range, gradients: gradientBase + range.lowerBound)
        finishStep()
    }
}

/// An error restoring an optimizer's state.
public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    /// A saved state whose buffers are missing or of the wrong length; the string says which.
    case stateMismatch(String)
    public var description: String {
        switch self { case let .stateMismatch(s): return "optimizer state does not fit: \(s)" }
    }
}

/// The description of an optimizer, from which each worker builds its own over its shard.
public enum OptimizerSpec: Codable, Hashable, Sendable {
    case sgd(lr: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false)
    case adam(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0)
    case adamW(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 1e-2)

    /// An optimizer over `range` of `store` (the whole store by default).
    public func make(for store: ParameterStore, range: Range<Int>? = nil) -> any Optimizer {
        let r = range ?? 0..<store.count
        switch self {
        case let .sgd(lr, momentum, dampening, wd, nesterov):
            return SGD(store, range: r, lr: lr, momentum: momentum, dampening: dampening, weightDecay: wd, nesterov: nesterov)
        case let .adam(lr, b1, b2, eps, wd):
            return Adam(store, range: r, lr: lr, betas: (b1, b2), eps: eps, weightDecay: wd)
        case let .adamW(lr, b1, b2, eps, wd):
            return Adam(store, range: r, lr: lr, betas: (b1, b2), eps: eps, weightDecay: wd, decoupled: true)
        }
    }

    /// Throws unless every hyperparameter is one the optimizer can take: finite, non-negative,
    /// betas in [0, 1), Nesterov only with momentum and no dampening — checked where a caller's
    /// spec enters, not on a worker thread.
    public func validate() throws {
        func check(_ name: String, _ value: Float, below limit: Float = .infinity) throws {
            guard value.isFinite, value >= 0, value < limit else {
                throw ConfigurationError("the optimizer's \(name) must be \(limit.isFinite ? "in [0, \(limit))" : "finite and non-negative"), got \(value)")
            }
        }
        switch self {
        case let .sgd(lr, momentum, dampening, wd, nesterov):
            try check("learning rate", lr); try check("momentum", momentum); try check("dampening", dampening)
            try check("weight decay", wd)
            if nesterov && !(momentum > 0 && dampening == 0) {
                throw ConfigurationError("Nesterov momentum needs momentum > 0 and no dampening")
            }
        case let .adam(lr, b1, b2, eps, wd), let .adamW(lr, b1, b2, eps, wd):
            try check("learning rate", lr); try check("beta1", b1, below: 1); try check("beta2", b2, below: 1)
            try check("eps", eps); try check("weight decay", wd)
        }
    }

    /// The `lr` of this description: the built optimizer's initial learning rate.
    public var learningRate: Float {
        switch self {
        case let .sgd(lr, _, _, _, _), let .adam(lr, _, _, _, _), let .adamW(lr, _, _, _, _): return lr
        }
    }

    /// "SGD(lr 0.01, momentum 0.9)", "Adam(lr 0.001)".
    public var summary: String {
        switch self {
        case let .sgd(lr, m, _, wd, nesterov):
            return "SGD(lr \(lr)" + (m != 0 ? ", momentum \(m)" : "") + (nesterov ? ", nesterov" : "")
                + (wd != 0 ? ", weight decay \(wd)" : "") + ")"
        case let .adam(lr, _, _, _, wd): return "Adam(lr \(lr)" + (wd != 0 ? ", weight decay \(wd)" : "") + ")"
        case let .adamW(lr, _, _, _, wd): return "AdamW(lr \(lr), weight decay \(wd))"
        }
    }
}
