/// One layer of an architecture, as a value: what model files store and what the engine uses to
/// build identical replicas.
public enum LayerSpec: Codable, Hashable, Sendable {
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool)
    case relu, tanh, sigmoid, gelu
    case dropout(Float)
    case layerNorm(features: Int, eps: Float)

    /// A fresh module of this kind (parameters at their default initialization).
    public func makeModule() -> any Module {
        switch self {
        case let .linear(i, o, bias): return Linear(i, o, bias: bias)
        case .relu: return ReLU()
        case .tanh: return Tanh()
        case .sigmoid: return Sigmoid()
        case .gelu: return GELU()
        case let .dropout(p): return Dropout(p)
        case let .layerNorm(features, eps): return LayerNorm(features, eps: eps)
        }
    }

    /// PyTorch-like one-line description: `Linear(4→64)`, `ReLU`, `Dropout(p=0.1)`.
    public var summary: String {
        switch self {
        case let .linear(i, o, bias): return "Linear(\(i)→\(o)\(bias ? "" : ", no bias"))"
        case .relu: return "ReLU"
        case .tanh: return "Tanh"
        case .sigmoid: return "Sigmoid"
        case .gelu: return "GELU"
        case let .dropout(p): return "Dropout(p=\(p))"
        case let .layerNorm(features, _): return "LayerNorm(\(features))"
        }
    }
}

/// An architecture: the layers of a `Sequential`, in order.
///
/// ```swift
/// let spec = ModelSpec.mlp(inputs: 4, hidden: [64], outputs: 3)
/// let model = spec.build(seed: 0)   // Sequential(Linear(4→64), ReLU, Linear(64→3))
/// ```
public struct ModelSpec: Codable, Hashable, Sendable {
    public var layers: [LayerSpec]

    public init(layers: [LayerSpec]) { self.layers = layers }

    /// A multilayer perceptron: Linear layers of the given widths with `activation` between them
    /// (and dropout after each activation when `dropout` > 0).
    public static func mlp(inputs: Int, hidden: [Int], outputs: Int,
                           activation: LayerSpec = .relu, dropout: Float = 0) -> ModelSpec {
        let widths = [inputs] + hidden + [outputs]
        var layers: [LayerSpec] = []
        for i in 0..<(widths.count - 1) {
            layers.append(.linear(inFeatures: widths[i], outFeatures: widths[i + 1], bias: true))
            if i < widths.count - 2 {
                layers.append(activation)
                if dropout > 0 { layers.append(.dropout(dropout)) }
            }
        }
        return ModelSpec(layers: layers)
    }

    /// Features the model takes: the first layer with a fixed width.
    public var inputFeatures: Int? {
        for layer in layers {
            if case let .linear(i, _, _) = layer { return i }
            if case let .layerNorm(f, _) = layer { return f }
        }
        return nil
    }

    /// Outputs the model gives: the last Linear's width.
    public var outputFeatures: Int? {
        for layer in layers.reversed() { if case let .linear(_, o, _) = layer { return o } }
        return nil
    }

    /// A model of this architecture, initialized from `seed`: the same seed gives the same
    /// weights on every thread and every run.
    public func build(seed: UInt64 = 0, numaNode: Int? = nil) -> Sequential {
        Sequential(layers.map { $0.makeModule() }, seed: seed, numaNode: numaNode)
    }

    public var summary: String { "Sequential(" + layers.map(\.summary).joined(separator: ", ") + ")" }
}
