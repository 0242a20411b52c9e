/// Batch normalization with a learned scale and shift and running statistics, as PyTorch's
/// `nn.BatchNorm1d` / `nn.BatchNorm2d` (affine, tracking running stats): `weight` starts at 1,
/// `bias` at 0, buffers `running_mean` 0, `running_var` 1, `num_batches_tracked` 0.
///
/// Training normalizes by the statistics of the global batch — all workers' rows, as PyTorch's
/// `SyncBatchNorm` — so a model trains the same on any number of workers and every replica's
/// running statistics stay identical; inference normalizes by the running statistics.
public class BatchNorm: Module {
    /// The channels (dimension 1 of the input).
    public let features: Int
    /// Added to the variance before its square root.
    public let eps: Float
    /// The weight of the newest batch in the running statistics.
    public let momentum: Float
    /// The scale γ and the shift β, [features].
    public let weight: Parameter, bias: Parameter
    /// The running statistics, [features], and the count of batches seen (a scalar).
    public let runningMean: Buffer, runningVar: Buffer, batchesTracked: Buffer
    /// The input ranks this kind takes, for its error message.
    let ranks: ClosedRange<Int>

    init(features: Int, eps: Float, momentum: Float, ranks: ClosedRange<Int>) {
        precondition(features > 0, "batch norm needs at least one feature")
        precondition(eps > 0 && eps.isFinite && momentum >= 0 && momentum <= 1, "batch norm needs eps > 0 and momentum in [0, 1]")
        self.features = features
        self.eps = eps
        self.momentum = momentum
        self.ranks = ranks
        weight = Parameter(name: "weight", shape: Shape(features))
        bias = Parameter(name: "bias", shape: Shape(features))
        runningMean = Buffer(name: "running_mean", shape: Shape(features))
        runningVar = Buffer(name: "running_var", shape: Shape(features), initial: 1, minimum: 0)
        batchesTracked = Buffer(name: "num_batches_tracked", shape: .scalar, isInteger: true)
        var generator = RandomGenerator(seed: 0)
        resetParameters(using: &generator)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVar, batchesTracked] }

    public func forward(_ input: Variable) -> Variable {
        let tape = input.tape
        guard ranks.contains(input.shape.rank) || tape.failed else {
            return tape.fail("\(type(of: self))(\(features)) needs an input of rank \(ranks.lowerBound == ranks.upperBound ? "\(ranks.lowerBound)" : "\(ranks.lowerBound) or \(ranks.upperBound)"), got \(input.shape)")
        }
        return input.batchNorm(weight: tape.parameter(weight), bias: tape.parameter(bias), runningMean: runningMean.value,
                               runningVar: runningVar.value, batchesTracked: batchesTracked.value, momentum: momentum, eps: eps)
    }

    /// PyTorch's `reset_parameters`: γ 1, β 0, and the running statistics reset.
    public func resetParameters(using generator: inout RandomGenerator) {
        Kernels.fill(weight.value, features, 1)
        Kernels.fill(bias.value, features, 0)
        Kernels.fill(runningMean.value, features, 0)
        Kernels.fill(runningVar.value, features, 1)
        batchesTracked.value[0] = 0
    }
}

/// Batch normalization of [N, C] or [N, C, L] (PyTorch's `nn.BatchNorm1d`); see `BatchNorm`.
///
/// ```swift
/// let model = Sequential { Linear(8, 32); BatchNorm1d(32); ReLU(); Linear(32, 3) }
/// ```
public final class BatchNorm1d: BatchNorm, BuiltinLayer {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, eps: eps, momentum: momentum, ranks: 2...3)
    }
    public var spec: LayerSpec { .batchNorm1d(features: features, eps: eps, momentum: momentum) }
}

/// Batch normalization of [N, C, H, W] (PyTorch's `nn.BatchNorm2d`); see `BatchNorm`.
public final class BatchNorm2d: BatchNorm, BuiltinLayer {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, eps: eps, momentum: momentum, ranks: 4...4)
    }
    public var spec: LayerSpec { .batchNorm2d(features: features, eps: eps, momentum: momentum) }
}
