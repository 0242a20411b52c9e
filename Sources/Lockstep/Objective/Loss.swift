/// A loss function (pillar 3). It returns Σ over rows of each row's loss ÷ `divisor`; with no
/// divisor, the rows of this batch (PyTorch's `reduction="mean"`). The data-parallel engine
/// passes the global batch's rows, so that the workers' losses and gradients simply add.
///
/// ```swift
/// let lossFunction = CrossEntropyLoss()
/// let loss = lossFunction(model(x), y)   // y: class indices [batch]
/// loss.backward()
/// ```
public protocol Loss: Sendable {
    /// The loss of `prediction` against `target`, a scalar: the sum of the rows' losses ÷ `divisor`
    /// (nil: the rows of `prediction`).
    func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable
    /// The name the CLI and the logs use ("mse", "cross-entropy").
    var name: String { get }
    /// Whether targets are class indices (one per row) rather than values shaped like the output.
    var expectsClassIndices: Bool { get }
    /// Whether the loss trains a binary classifier with one logit per row (class 1 when positive).
    var isBinary: Bool { get }
}

extension Loss {
    /// The mean loss per row of this batch (PyTorch's `reduction="mean"`).
    public func callAsFunction(_ prediction: Variable, _ target: Variable) -> Variable {
        self(prediction, target, divisor: nil)
    }
    public var expectsClassIndices: Bool { false }
    public var isBinary: Bool { false }
}

private func rows(_ v: Variable, _ divisor: Float?) -> Float { divisor ?? Float(max(v.shape.rows, 1)) }

/// Mean squared error (PyTorch's `nn.MSELoss`).
public struct MSELoss: Loss {
    public init() {}
    public func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable {
        prediction.mseLoss(target, divisor: rows(prediction, divisor))
    }
    public var name: String { "mse" }
}

/// Mean absolute error (PyTorch's `nn.L1Loss`).
public struct L1Loss: Loss {
    public init() {}
    public func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable {
        prediction.l1Loss(target, divisor: rows(prediction, divisor))
    }
    public var name: String { "l1" }
}

/// Huber loss with threshold `delta` (PyTorch's `nn.HuberLoss`, default δ = 1).
public struct HuberLoss: Loss {
    /// Where the loss turns from quadratic to linear, in target units.
    public var delta: Float
    /// A Huber loss with threshold `delta` (PyTorch's default 1).
    public init(delta: Float = 1) { self.delta = delta }
    public func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable {
        prediction.huberLoss(target, delta: delta, divisor: rows(prediction, divisor))
    }
    public var name: String { "huber" }
}

/// Cross-entropy of logits against class indices, with a fused stable log-softmax
/// (PyTorch's `nn.CrossEntropyLoss`).
public struct CrossEntropyLoss: Loss {
    public init() {}
    public func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable {
        prediction.crossEntropyLoss(target, divisor: rows(prediction, divisor))
    }
    public var name: String { "cross-entropy" }
    public var expectsClassIndices: Bool { true }
}

/// Binary cross-entropy on logits (PyTorch's `nn.BCEWithLogitsLoss`); targets in [0, 1]. On a
/// two-class data set the model has one output and the class indices 0 and 1 are the targets.
public struct BCEWithLogitsLoss: Loss {
    public init() {}
    public func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable {
        prediction.binaryCrossEntropyWithLogits(target, divisor: rows(prediction, divisor))
    }
    public var name: String { "bce" }
    public var isBinary: Bool { true }
}

/// A loss of the caller's own, as a closure over the model's output, the batch's targets and
/// the divisor: it must return a scalar, the sum of the rows' losses ÷ `divisor` (the engine
/// passes the global batch's rows, so that the workers' losses and gradients add up to the
/// batch mean). Built from any ops on the tape, it is differentiated like the built-in losses.
///
/// ```swift
/// let weighted = CustomLoss(name: "weighted-mse") { output, target, divisor in
///     let error = output - target
///     return (error * error * output.tape.input(weights)).sum() * (1 / divisor)   // weights: [1, outputs]
/// }
/// ```
public struct CustomLoss: Loss {
    public let name: String
    public let expectsClassIndices: Bool
    private let body: @Sendable (Variable, Variable, Float) -> Variable

    /// A loss named `name` (for logs and checkpoints: a resume compares it); `classIndices` says
    /// that the targets are one class index per row rather than values shaped like the output.
    public init(name: String, classIndices: Bool = false, _ body: @escaping @Sendable (_ output: Variable, _ target: Variable,
                                                                                       _ divisor: Float) -> Variable) {
        self.name = name
        expectsClassIndices = classIndices
        self.body = body
    }

    public func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable {
        let value = body(prediction, target, rows(prediction, divisor))
        guard value.tape === prediction.tape else {   // backward from it would never reach the model
            return prediction.tape.fail("loss '\(name)' returned a value of another tape: build it from the output and target it is given")
        }
        guard !value.tape.failed else { return value }
        return value.shape.count == 1 ? value : value.tape.fail("loss '\(name)' returned \(value.shape), not a scalar")
    }
}
