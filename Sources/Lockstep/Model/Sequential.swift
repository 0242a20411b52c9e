/// Modules applied in order, with all parameters in one flat store (PyTorch's `nn.Sequential`).
///
/// Parameter names are PyTorch's: the layer's index, a dot, the parameter's name ("0.weight",
/// "0.bias", "2.weight", …); activations take an index too.
///
/// ```swift
/// let model = Sequential(seed: 42) {
///     Linear(4, 64)
///     ReLU()
///     Linear(64, 3)
/// }
/// let logits = model(tape.input(batch))
/// model.stateDict()["0.weight"]!.shape     // [64, 4]
/// ```
public final class Sequential: Module, CustomStringConvertible {
    /// The modules, in the order `forward` applies them.
    public let layers: [any Module]
    /// The flat value and gradient buffers that every parameter views.
    public let store: ParameterStore
    /// The flat block every buffer (running statistics) views, in `namedBuffers` order.
    public let bufferValues: AlignedBuffer
    private let bufferList: [Buffer]
    /// Made by `init(root:)`: the one layer is the model, its names unprefixed.
    let root: Bool

    /// Builds the model and draws every layer's initial parameters, in order, from `seed`.
    /// `sharedValues` makes its parameters view another replica's value buffer (see
    /// `ParameterStore`).
    public init(_ layers: [any Module], seed: UInt64 = 0, numaNode: Int? = nil, sharedValues: AlignedBuffer? = nil) {
        self.layers = layers
        root = false
        var generator = RandomGenerator(seed: seed)
        for layer in layers { layer.resetParameters(using: &generator) }
        let indexed = layers.enumerated()
        (store, bufferValues, bufferList) = Self.bind(
            parameters: indexed.flatMap { index, layer in layer.namedParameters.map { ("\(index)." + $0.name, $0.parameter) } },
            buffers: indexed.flatMap { index, layer in layer.namedBuffers.map { ("\(index)." + $0.name, $0.buffer) } },
            numaNode: numaNode, sharedValues: sharedValues)
    }

    /// A model whose root is `module`, a class of the caller's own: its parameters and buffers
    /// keep the names the module gives them (`conv1.weight`, `blocks.0.fc.bias`, as PyTorch's
    /// `state_dict` of the same class), with no index in front; the model holds them in its flat
    /// buffers and `forward` is the module's. With a `seed`, the module's parameters are drawn
    /// from it; without, they keep the values they have (a module loaded from a file).
    ///
    /// ```swift
    /// let model = Sequential(root: Net())
    /// model.namedParameters.first!.name     // "conv1.weight"
    /// ```
    public init(root module: any Module, seed: UInt64? = nil, numaNode: Int? = nil) {
        layers = [module]
        root = true
        if let seed {
            var generator = RandomGenerator(seed: seed)
            module.resetParameters(using: &generator)
        }
        (store, bufferValues, bufferList) = Self.bind(parameters: module.namedParameters, buffers: module.namedBuffers,
                                                      numaNode: numaNode, sharedValues: nil)
    }

    /// Names the parameters and buffers and moves them into the model's flat blocks. A tensor
    /// reached twice (a module listed twice) is bound once, under its first name.
    private static func bind(parameters allParameters: [(String, Parameter)], buffers allBuffers: [(String, Buffer)], numaNode: Int?,
                             sharedValues: AlignedBuffer?) -> (ParameterStore, AlignedBuffer, [Buffer]) {
        var seen = Set<ObjectIdentifier>()
        let parameters = allParameters.filter { seen.insert(ObjectIdentifier($0.1)).inserted }
        let buffers = allBuffers.filter { seen.insert(ObjectIdentifier($0.1)).inserted }
        for (name, parameter) in parameters { parameter.name = name }
        let store = ParameterStore(binding: parameters.map(\.1), numaNode: numaNode, sharedValues: sharedValues)
        let block = AlignedBuffer(count: buffers.reduce(0) { $0 + $1.1.count }, numaNode: numaNode)
        var offset = 0
        for (name, buffer) in buffers {
            buffer.name = name
            buffer.rebind(to: block, offset: offset)
            offset += buffer.count
        }
        return (store, block, buffers.map(\.1))
    }

    /// Builds the model from a block of modules, drawing their initial parameters from `seed`.
    public convenience init(seed: UInt64 = 0, @SequentialBuilder _ layers: () -> [any Module]) {
        self.init(layers(), seed: seed)
    }

    /// Every parameter, in the store's order (a Sequential holds none of its own: its layers do).
    public var parameters: [Parameter] { store.parameters }

    public var children: [(name: String, module: any Module)] {
        root ? layers[0].children : layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    /// Every parameter with its PyTorch name ("0.weight", "2.bias").
    public var namedParameters: [(name: String, parameter: Parameter)] { store.parameters.map { ($0.name, $0) } }

    /// Throws unless `values`, laid out as `bufferValues`, may be this model's buffers (see
    /// `Buffer.check`): what a checkpoint's buffers must pass before a resume loads them.
    public func checkBufferValues(_ values: [Float]) throws {
        guard values.count == bufferValues.count else {
            throw ConfigurationError("\(values.count) buffer values for a model with \(bufferValues.count)")
        }
        var offset = 0
        try values.withUnsafeBufferPointer { all in
            for buffer in bufferList {
                try buffer.check(UnsafeBufferPointer(rebasing: all[offset..<(offset + buffer.count)]))
                offset += buffer.count
            }
        }
    }

    /// Every buffer with its PyTorch name ("1.running_mean").
    public var namedBuffers: [(name: String, buffer: Buffer)] { bufferList.map { ($0.name, $0) } }

    /// Applies every layer in order to `input` (PyTorch's `model(x)`).
    public func callAsFunction(_ input: Variable) -> Variable { forward(input) }

    /// The shape of one sample ([C, H, W]) that flat rows are reshaped to before the first layer,
    /// or nil (rows go in as they are). Set by `ModelSpec.build` from the spec's `inputShape`.
    public var inputShape: [Int]? {
        didSet { sampleShape = inputShape.map { Shape([1] + $0) } }
    }
    /// `inputShape` with a batch dimension, kept so that a forward pass allocates nothing.
    private var sampleShape: Shape?

    public func forward(_ input: Variable) -> Variable {
        var x = input
        if let sampleShape, input.shape.rank == 2, input.shape != sampleShape.withRows(input.shape[0]) {
            x = input.reshaped(sampleShape.withRows(input.shape[0]))
        }
        for layer in layers { x = layer.forward(x) }
        return x
    }

    public func resetParameters(using generator: inout RandomGenerator) {
        for layer in layers { layer.resetParameters(using: &generator) }
    }

    /// The features the model takes: the width of its first layer that has one, when that is a
    /// built-in layer; nil when a layer of the caller's own comes first.
    public var inputFeatures: Int? {
        if let inputShape { return inputShape.reduce(1, *) }
        for layer in layers {
            guard let builtin = layer as? any BuiltinLayer else { return nil }
            switch builtin.spec {
            case let .linear(inputs, _, _): return inputs
            case let .layerNorm(features, _), let .batchNorm1d(features, _, _): return features
            case .relu, .tanh, .sigmoid, .gelu, .dropout, .identity: continue
            default: return nil   // a convolution or pooling first: its input width is the data's shape
            }
        }
        return nil
    }

    /// The outputs the model gives: its last Linear's width, when no layer of the caller's own
    /// comes after it; nil otherwise.
    public var outputFeatures: Int? {
        for layer in layers.reversed() {
            guard let builtin = layer as? any BuiltinLayer else { return nil }
            if case let .linear(_, outputs, _) = builtin.spec { return outputs }
        }
        return nil
    }

    /// The architecture, for files and replicas, when every layer is a built-in one; nil when a
    /// layer is a module of the caller's own.
    public var modelSpec: ModelSpec? {
        guard !root else { return nil }
        var specs: [LayerSpec] = []
        for layer in layers {
            guard let builtin = layer as? any BuiltinLayer else { return nil }
            specs.append(builtin.spec)
        }
        return ModelSpec(layers: specs, inputShape: inputShape)
    }

    /// Sets every gradient to zero.
    public func zeroGrad() { store.zeroGrad() }

    public var description: String {
        modelSpec?.summary ?? "Sequential(" + layers.map { ($0 as? any BuiltinLayer)?.spec.summary ?? "\(type(of: $0))" }.joined(separator: ", ") + ")"
    }
}

/// Builds the layer list of a `Sequential` from a block of modules.
@resultBuilder
public enum SequentialBuilder {
    public static func buildExpression(_ module: any Module) -> [any Module] { [module] }
    public static func buildBlock(_ parts: [any Module]...) -> [any Module] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any Module]?) -> [any Module] { part ?? [] }
    public static func buildEither(first: [any Module]) -> [any Module] { first }
    public static func buildEither(second: [any Module]) -> [any Module] { second }
    public static func buildArray(_ parts: [[any Module]]) -> [any Module] { parts.flatMap { $0 } }
}

/// A state dict that does not fit a model.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// A parameter of the model that the state dict lacks.
    case missingParameter(String)
    /// A name in the state dict that the model has no parameter for.
    case unexpectedParameter(String)
    /// A parameter whose tensor in the state dict has another shape.
    case shapeMismatch(String, expected: Shape, got: Shape)
    /// A parameter whose tensor holds NaN or infinite values: training from it could only fail.
    case notFinite(String)

    public var description: String {
        switch self {
        case let .missingParameter(n): return "tensor '\(n)' is missing"
        case let .unexpectedParameter(n): return "unexpected tensor '\(n)'"
        case let .shapeMismatch(n, e, g): return "tensor '\(n)' has shape \(g), the model expects \(e)"
        case let .notFinite(n): return "tensor '\(n)' holds values that are not finite"
        }
    }
}
