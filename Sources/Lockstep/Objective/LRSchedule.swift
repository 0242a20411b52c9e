#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A learning rate as a function of the optimizer step: constant, step decay or cosine, with an
/// optional linear warmup first. A pure function of the step, so its whole state is the step count.
///
/// ```swift
/// let schedule = LRSchedule(base: 0.1, kind: .cosine(totalSteps: 1000, minimum: 0), warmupSteps: 50)
/// optimizer.learningRate = schedule.learningRate(atStep: optimizer.stepCount)
/// ```
public struct LRSchedule: Codable, Hashable, Sendable {
    /// The shape of the schedule after warmup.
    public enum Kind: Codable, Hashable, Sendable {
        /// The base rate throughout.
        case constant
        /// Multiplies by `gamma` every `every` steps (PyTorch's `StepLR`).
        case step(every: Int, gamma: Float)
        /// Cosine from base to `minimum` over `totalSteps` (PyTorch's `CosineAnnealingLR`).
        case cosine(totalSteps: Int, minimum: Float)
    }

    /// The learning rate at the end of warmup, from which `kind` starts.
    public var base: Float
    /// The schedule after warmup.
    public var kind: Kind
    /// Steps of linear warmup from base/warmup to base before `kind` starts.
    public var warmupSteps: Int

    /// A schedule from `base`, shaped by `kind`, after `warmupSteps` (≥ 0) of linear warmup.
    public init(base: Float, kind: Kind = .constant, warmupSteps: Int = 0) {
        precondition(warmupSteps >= 0, "warmup steps must be non-negative")
        self.base = base
        self.kind = kind
        self.warmupSteps = warmupSteps
    }

    /// The learning rate for optimizer step `step` (0-based).
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        let s = step - warmupSteps
        switch kind {
        case .constant:
            return base
        case let .step(every, gamma):
            return base * powf(gamma, Float(s / max(every, 1)))
        case let .cosine(total, minimum):
            let t = Float(min(s, total)) / Float(max(total, 1))
            return minimum + (base - minimum) * (1 + cosf(Float.pi * t)) / 2
        }
    }
}
