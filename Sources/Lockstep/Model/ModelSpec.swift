/// One layer of an architecture, as a value: what model files store and what the engine uses to
/// build identical replicas. Its JSON is `{"type": "linear", "in": 4, "out": 64, "bias": true}`,
/// `{"type": "relu"}`, `{"type": "dropout", "p": 0.1}`, `{"type": "layer_norm", "features": 8, "eps": 1e-5}`.
public enum LayerSpec: Codable, Hashable, Sendable {
    /// A `Linear` layer.
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool)
    /// Elementwise activations: `ReLU`, `Tanh`, `Sigmoid`, `GELU`.
    case relu, tanh, sigmoid, gelu
    /// A `Dropout` layer with probability p.
    case dropout(Float)
    /// A `LayerNorm` layer.
    case layerNorm(features: Int, eps: Float)

    private enum Key: String, CodingKey { case type, `in`, out, bias, p, features, eps }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "linear":
            self = .linear(inFeatures: try c.decode(Int.self, forKey: .in), outFeatures: try c.decode(Int.self, forKey: .out),
                           bias: try c.decodeIfPresent(Bool.self, forKey: .bias) ?? true)
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "gelu": self = .gelu
        case "dropout": self = .dropout(try c.decode(Float.self, forKey: .p))
        case "layer_norm":
            self = .layerNorm(features: try c.decode(Int.self, forKey: .features), eps: try c.decodeIfPresent(Float.self, forKey: .eps) ?? 1e-5)
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown layer type '\(type)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .linear(i, o, bias):
            try c.encode("linear", forKey: .type)
            try c.encode(i, forKey: .in)
            try c.encode(o, forKey: .out)
            try c.encode(bias, forKey: .bias)
        case .relu: try c.encode("relu", forKey: .type)
        case .tanh: try c.encode("tanh", forKey: .type)
        case .sigmoid: try c.encode("sigmoid", forKey: .type)
        case .gelu: try c.encode("gelu", forKey: .type)
        case let .dropout(p):
            try c.encode("dropout", forKey: .type)
            try c.encode(p, forKey: .p)
        case let .layerNorm(features, eps):
            try c.encode("layer_norm", forKey: .type)
            try c.encode(features, forKey: .features)
            try c.encode(eps, forKey: .eps)
        }
    }

    /// A fresh module of this kind (parameters at their default initialization).
    public func makeModule() -> any BuiltinLayer {
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
    /// The layers, in order.
    public var layers: [LayerSpec]

    /// An architecture of `layers`, in order.
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
    public func build(seed: UInt64 = 0, numaNode: Int? = nil, sharedValues: AlignedBuffer? = nil) -> Sequential {
        Sequential(layers.map { $0.makeModule() }, seed: seed, numaNode: numaNode, sharedValues: sharedValues)
    }

    /// PyTorch-like one-line description: `Sequential(Linear(4→64), ReLU, Linear(64→3))`.
    public var summary: String { "Sequential(" + layers.map(\.summary).joined(separator: ", ") + ")" }
}
