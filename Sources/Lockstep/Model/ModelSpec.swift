/// One layer of an architecture, as a value: what model files store and what the engine uses to
/// build identical replicas. Its JSON is `{"type": "linear", "in": 4, "out": 64, "bias": true}`,
/// `{"type": "relu"}`, `{"type": "dropout", "p": 0.1}`, `{"type": "layer_norm", "features": 8, "eps": 1e-5}`,
/// `{"type": "conv2d", "in": 1, "out": 16, "kernel": 3, "padding": 1}` (stride 1, padding 0, dilation 1,
/// groups 1, bias true by default), `{"type": "max_pool2d", "kernel": 2}` (stride = kernel),
/// `{"type": "avg_pool2d", …}`, `{"type": "adaptive_avg_pool2d", "output": 1}`, `{"type": "flatten"}`,
/// `{"type": "identity"}`, `{"type": "dropout2d", "p": 0.1}`, `{"type": "conv1d", …}` (the keys of conv2d),
/// `{"type": "batch_norm2d", "features": 16}` (eps 1e-5, momentum 0.1; `batch_norm1d` alike).
public enum LayerSpec: Codable, Hashable, Sendable {
    /// A `Linear` layer.
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool)
    /// Elementwise activations: `ReLU`, `Tanh`, `Sigmoid`, `GELU`.
    case relu, tanh, sigmoid, gelu
    /// A `Dropout` layer with probability p.
    case dropout(Float)
    /// A `LayerNorm` layer.
    case layerNorm(features: Int, eps: Float)
    /// A `Conv2d` layer (square kernel).
    case conv2d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, groups: Int, bias: Bool)
    /// A `Conv1d` layer.
    case conv1d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, groups: Int, bias: Bool)
    /// `BatchNorm1d` and `BatchNorm2d` layers.
    case batchNorm1d(features: Int, eps: Float, momentum: Float)
    case batchNorm2d(features: Int, eps: Float, momentum: Float)
    /// An `Embedding` table of `count` vectors of `dim`.
    case embedding(count: Int, dim: Int)
    case maxPool2d(kernel: Int, stride: Int)
    case avgPool2d(kernel: Int, stride: Int)
    /// To 1 × 1 (the only output size Lockstep has).
    case adaptiveAvgPool2d
    case flatten, identity
    case dropout2d(Float)

    private enum Key: String, CodingKey { case type, `in`, out, bias, p, features, eps, momentum, kernel, stride, padding, dilation, groups, output
        case numEmbeddings = "num_embeddings", embeddingDim = "embedding_dim" }

    /// Any key of a layer's JSON object, to find the ones its type does not have.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The keys each layer type takes besides "type".
    private static let keys: [String: Set<String>] = [
        "linear": ["in", "out", "bias"], "relu": [], "tanh": [], "sigmoid": [], "gelu": [], "dropout": ["p"], "dropout2d": ["p"],
        "layer_norm": ["features", "eps"], "conv2d": ["in", "out", "kernel", "stride", "padding", "dilation", "groups", "bias"],
        "conv1d": ["in", "out", "kernel", "stride", "padding", "dilation", "groups", "bias"], "max_pool2d": ["kernel", "stride"],
        "avg_pool2d": ["kernel", "stride"], "adaptive_avg_pool2d": ["output"], "flatten": [], "identity": [],
        "batch_norm1d": ["features", "eps", "momentum"], "batch_norm2d": ["features", "eps", "momentum"],
        "embedding": ["num_embeddings", "embedding_dim"],
    ]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        // A key this type does not have ("affine": false) would be ignored silently: refused.
        if let allowed = Self.keys[type],
           let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
               .filter({ $0 != "type" && !allowed.contains($0) }).sorted().first {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription:
                "\(type) has no key '\(unknown)' (it takes " + (allowed.isEmpty ? "none" : allowed.sorted().joined(separator: ", ")) + ")")
        }
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
        case "conv2d", "conv1d":
            let (i, o, kernel) = (try c.decode(Int.self, forKey: .in), try c.decode(Int.self, forKey: .out), try c.decode(Int.self, forKey: .kernel))
            let stride = try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1, padding = try c.decodeIfPresent(Int.self, forKey: .padding) ?? 0
            let dilation = try c.decodeIfPresent(Int.self, forKey: .dilation) ?? 1, groups = try c.decodeIfPresent(Int.self, forKey: .groups) ?? 1
            let bias = try c.decodeIfPresent(Bool.self, forKey: .bias) ?? true
            self = type == "conv2d"
                ? .conv2d(inChannels: i, outChannels: o, kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias)
                : .conv1d(inChannels: i, outChannels: o, kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias)
        case "batch_norm1d", "batch_norm2d":
            let features = try c.decode(Int.self, forKey: .features), eps = try c.decodeIfPresent(Float.self, forKey: .eps) ?? 1e-5
            let momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? 0.1
            self = type == "batch_norm1d" ? .batchNorm1d(features: features, eps: eps, momentum: momentum)
                : .batchNorm2d(features: features, eps: eps, momentum: momentum)
        case "max_pool2d", "avg_pool2d":
            let kernel = try c.decode(Int.self, forKey: .kernel), stride = try c.decodeIfPresent(Int.self, forKey: .stride) ?? kernel
            self = type == "max_pool2d" ? .maxPool2d(kernel: kernel, stride: stride) : .avgPool2d(kernel: kernel, stride: stride)
        case "adaptive_avg_pool2d":
            let output = try c.decodeIfPresent(Int.self, forKey: .output) ?? 1
            guard output == 1 else {
                throw DecodingError.dataCorruptedError(forKey: .output, in: c, debugDescription: "adaptive_avg_pool2d pools to 1 × 1 only, got output \(output)")
            }
            self = .adaptiveAvgPool2d
        case "embedding":
            self = .embedding(count: try c.decode(Int.self, forKey: .numEmbeddings), dim: try c.decode(Int.self, forKey: .embeddingDim))
        case "flatten": self = .flatten
        case "identity": self = .identity
        case "dropout2d": self = .dropout2d(try c.decode(Float.self, forKey: .p))
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
        case let .conv2d(i, o, kernel, stride, padding, dilation, groups, bias),
             let .conv1d(i, o, kernel, stride, padding, dilation, groups, bias):
            try c.encode(typeName, forKey: .type)
            try c.encode(i, forKey: .in)
            try c.encode(o, forKey: .out)
            try c.encode(kernel, forKey: .kernel)
            try c.encode(stride, forKey: .stride)
            try c.encode(padding, forKey: .padding)
            try c.encode(dilation, forKey: .dilation)
            try c.encode(groups, forKey: .groups)
            try c.encode(bias, forKey: .bias)
        case let .batchNorm1d(features, eps, momentum), let .batchNorm2d(features, eps, momentum):
            try c.encode(typeName, forKey: .type)
            try c.encode(features, forKey: .features)
            try c.encode(eps, forKey: .eps)
            try c.encode(momentum, forKey: .momentum)
        case let .maxPool2d(kernel, stride):
            try c.encode("max_pool2d", forKey: .type)
            try c.encode(kernel, forKey: .kernel)
            try c.encode(stride, forKey: .stride)
        case let .avgPool2d(kernel, stride):
            try c.encode("avg_pool2d", forKey: .type)
            try c.encode(kernel, forKey: .kernel)
            try c.encode(stride, forKey: .stride)
        case .adaptiveAvgPool2d:
            try c.encode("adaptive_avg_pool2d", forKey: .type)
            try c.encode(1, forKey: .output)
        case let .embedding(count, dim):
            try c.encode("embedding", forKey: .type)
            try c.encode(count, forKey: .numEmbeddings)
            try c.encode(dim, forKey: .embeddingDim)
        case .flatten: try c.encode("flatten", forKey: .type)
        case .identity: try c.encode("identity", forKey: .type)
        case let .dropout2d(p):
            try c.encode("dropout2d", forKey: .type)
            try c.encode(p, forKey: .p)
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
        case let .conv2d(i, o, kernel, stride, padding, dilation, groups, bias):
            return Conv2d(i, o, kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias)
        case let .conv1d(i, o, kernel, stride, padding, dilation, groups, bias):
            return Conv1d(i, o, kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias)
        case let .batchNorm1d(features, eps, momentum): return BatchNorm1d(features, eps: eps, momentum: momentum)
        case let .batchNorm2d(features, eps, momentum): return BatchNorm2d(features, eps: eps, momentum: momentum)
        case let .embedding(count, dim): return Embedding(count, dim)
        case let .maxPool2d(kernel, stride): return MaxPool2d(kernel, stride: stride)
        case let .avgPool2d(kernel, stride): return AvgPool2d(kernel, stride: stride)
        case .adaptiveAvgPool2d: return AdaptiveAvgPool2d()
        case .flatten: return Flatten()
        case .identity: return Identity()
        case let .dropout2d(p): return Dropout2d(p)
        }
    }

    /// The `type` of the layer's JSON: "linear", "max_pool2d", ….
    public var typeName: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .tanh: return "tanh"
        case .sigmoid: return "sigmoid"
        case .gelu: return "gelu"
        case .dropout: return "dropout"
        case .layerNorm: return "layer_norm"
        case .conv2d: return "conv2d"
        case .conv1d: return "conv1d"
        case .batchNorm1d: return "batch_norm1d"
        case .batchNorm2d: return "batch_norm2d"
        case .embedding: return "embedding"
        case .maxPool2d: return "max_pool2d"
        case .avgPool2d: return "avg_pool2d"
        case .adaptiveAvgPool2d: return "adaptive_avg_pool2d"
        case .flatten: return "flatten"
        case .identity: return "identity"
        case .dropout2d: return "dropout2d"
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
        case let .conv2d(i, o, kernel, stride, padding, dilation, groups, bias):
            let options = [stride != 1 ? "stride \(stride)" : nil, padding != 0 ? "padding \(padding)" : nil,
                           dilation != 1 ? "dilation \(dilation)" : nil, groups != 1 ? "groups \(groups)" : nil, bias ? nil : "no bias"]
            return "Conv2d(\(i)→\(o), \(kernel)×\(kernel)" + options.compactMap { $0.map { ", " + $0 } }.joined() + ")"
        case let .conv1d(i, o, kernel, stride, padding, dilation, groups, bias):
            let options = [stride != 1 ? "stride \(stride)" : nil, padding != 0 ? "padding \(padding)" : nil,
                           dilation != 1 ? "dilation \(dilation)" : nil, groups != 1 ? "groups \(groups)" : nil, bias ? nil : "no bias"]
            return "Conv1d(\(i)→\(o), \(kernel)" + options.compactMap { $0.map { ", " + $0 } }.joined() + ")"
        case let .batchNorm1d(features, eps, momentum), let .batchNorm2d(features, eps, momentum):
            let options = [eps != 1e-5 ? "eps \(eps)" : nil, momentum != 0.1 ? "momentum \(momentum)" : nil].compactMap { $0 }
            return "\(typeName == "batch_norm1d" ? "BatchNorm1d" : "BatchNorm2d")(\(([String(features)] + options).joined(separator: ", ")))"
        case let .maxPool2d(kernel, stride): return "MaxPool2d(\(kernel)" + (stride != kernel ? ", stride \(stride)" : "") + ")"
        case let .avgPool2d(kernel, stride): return "AvgPool2d(\(kernel)" + (stride != kernel ? ", stride \(stride)" : "") + ")"
        case let .embedding(count, dim): return "Embedding(\(count), \(dim))"
        case .adaptiveAvgPool2d: return "AdaptiveAvgPool2d(1)"
        case .flatten: return "Flatten"
        case .identity: return "Identity"
        case let .dropout2d(p): return "Dropout2d(p=\(p))"
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
    /// The shape of one sample, [C, H, W] for images: rows of the data (C·H·W columns) are
    /// reshaped to it before the first layer. Needed by convolutional layers; nil for an MLP.
    public var inputShape: [Int]?

    enum CodingKeys: String, CodingKey { case layers, inputShape = "input_shape" }

    /// An architecture of `layers`, in order, on samples of `inputShape` when given.
    public init(layers: [LayerSpec], inputShape: [Int]? = nil) {
        self.layers = layers
        self.inputShape = inputShape
    }

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
        if let inputShape { return inputShape.reduce(1, *) }
        for layer in layers {
            if case let .linear(i, _, _) = layer { return i }
            if case let .layerNorm(f, _) = layer { return f }
            if case let .batchNorm1d(f, _, _) = layer { return f }
        }
        return nil
    }

    /// Outputs the model gives: the width of its last layer's samples, when they are vectors
    /// (the last Linear's width, for an MLP); nil when they are not (images) or unknown.
    public var outputFeatures: Int? {
        if let shapes = try? sampleShapes(), let last = shapes.last { return last.count == 1 ? last[0] : nil }
        for layer in layers.reversed() { if case let .linear(_, o, _) = layer { return o } }
        return nil
    }

    /// A model of this architecture, initialized from `seed`: the same seed gives the same
    /// weights on every thread and every run.
    public func build(seed: UInt64 = 0, numaNode: Int? = nil, sharedValues: AlignedBuffer? = nil) -> Sequential {
        let model = Sequential(layers.map { $0.makeModule() }, seed: seed, numaNode: numaNode, sharedValues: sharedValues)
        model.inputShape = inputShape
        return model
    }

    /// PyTorch-like one-line description: `Sequential(Linear(4→64), ReLU, Linear(64→3))`.
    public var summary: String {
        "Sequential(" + layers.map(\.summary).joined(separator: ", ") + ")" + (inputShape.map { " on \($0)" } ?? "")
    }
}
