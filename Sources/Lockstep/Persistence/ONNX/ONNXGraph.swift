/// A value flowing through an ONNX graph being built: its name and its rank (the batch
/// dimension included, and dynamic).
public struct ONNXValue: Sendable, Equatable {
    /// The value's name in the graph.
    public var name: String
    /// Dimensions, the batch's first.
    public var rank: Int

    /// A value of `rank` dimensions named `name`.
    public init(_ name: String, rank: Int) {
        self.name = name
        self.rank = rank
    }
}

/// A module that can write its forward pass (in inference form: dropout is the identity, batch
/// norm uses its running statistics) as ONNX nodes. Every built-in layer can; a module of one's
/// own conforms by exporting its children in the order its `forward` calls them.
///
/// ```swift
/// extension Residual: ONNXExportable {   // forward: x + fc2(relu(fc1(x)))
///     func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
///         let h = try graph.export(fc1, x, prefix: prefix + "fc1.")
///         let y = try graph.export(fc2, graph.add("Relu", [h]), prefix: prefix + "fc2.")
///         return graph.add("Add", [x, y])
///     }
/// }
/// ```
public protocol ONNXExportable: Module {
    /// Adds the nodes that compute `forward(x)` to `graph` and returns its output. `prefix` is
    /// this module's state-dict name with a trailing dot ("blocks.0.attn."), or "" for the root:
    /// parameters become initializers under their state-dict names.
    func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue
}

/// Why a model cannot be exported.
public struct ONNXExportError: Error, CustomStringConvertible {
    /// What cannot be exported, and why.
    public var description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}

/// An ONNX graph under construction: nodes in order, initializers (constant tensors) and the
/// graph's inputs and outputs; `model` encodes the whole ModelProto (opset 17).
public struct ONNXGraph {
    /// One attribute value of a node.
    public enum Attribute {
        case int(Int), float(Float), ints([Int])
    }

    struct Node {
        var op: String
        var inputs: [String]
        var outputs: [String]
        var attributes: [(String, Attribute)]
    }

    struct Initializer {
        var name: String
        var dims: [Int]
        var floats: [Float]?
        var ints: [Int]?
    }

    private(set) var nodes: [Node] = []
    private(set) var initializers: [Initializer] = []
    private var used: Set<String> = []
    private var counts: [String: Int] = [:]

    /// An empty graph.
    public init() {}

    /// A name not used yet, built from `base`.
    private mutating func unique(_ base: String) -> String {
        var name = base
        while used.contains(name) {
            counts[base, default: 0] += 1
            name = "\(base)_\(counts[base]!)"
        }
        used.insert(name)
        return name
    }

    /// Appends node `op` over `inputs` and returns its output (of `rank`, by default the first
    /// input's rank).
    @discardableResult
    public mutating func add(_ op: String, _ inputs: [ONNXValue], rank: Int? = nil, attributes: [(String, Attribute)] = [],
                             name: String? = nil) -> ONNXValue {
        let output = unique(name ?? op)
        nodes.append(Node(op: op, inputs: inputs.map(\.name), outputs: [output], attributes: attributes))
        return ONNXValue(output, rank: rank ?? inputs.first?.rank ?? 0)
    }

    /// A float initializer named `name` (unique-ified) holding `tensor`.
    public mutating func constant(_ name: String, _ tensor: Tensor) -> ONNXValue {
        let unique = unique(name)
        initializers.append(Initializer(name: unique, dims: tensor.shape.dimensions, floats: tensor.scalars))
        return ONNXValue(unique, rank: tensor.shape.rank)
    }

    /// A float initializer of `values` with dimensions `dims` (a scalar for []).
    public mutating func constant(_ name: String, floats values: [Float], dims: [Int]) -> ONNXValue {
        let unique = unique(name)
        initializers.append(Initializer(name: unique, dims: dims, floats: values))
        return ONNXValue(unique, rank: dims.count)
    }

    /// An int64 initializer of `values`, one-dimensional (shapes, axes).
    public mutating func constant(_ name: String, ints values: [Int]) -> ONNXValue {
        let unique = unique(name)
        initializers.append(Initializer(name: unique, dims: [values.count], ints: values))
        return ONNXValue(unique, rank: 1)
    }

    /// `module`'s nodes on `x`; throws, naming the module, when it cannot be exported.
    public mutating func export(_ module: any Module, _ x: ONNXValue, prefix: String) throws -> ONNXValue {
        guard let exportable = module as? any ONNXExportable else {
            let place = prefix.isEmpty ? "the model" : "layer '\(prefix.dropLast())'"
            throw ONNXExportError("\(place) (\(type(of: module))) cannot be exported to ONNX: it does not conform to ONNXExportable")
        }
        return try exportable.exportONNX(x, to: &self, prefix: prefix)
    }

    /// Reserves a graph input's name.
    mutating func reserve(_ name: String) { used.insert(name) }

    /// Renames the node that produces `value` to `name` (for the graph's named outputs).
    mutating func rename(_ value: ONNXValue, to name: String) -> ONNXValue {
        guard let i = nodes.lastIndex(where: { $0.outputs == [value.name] }) else {
            return add("Identity", [value], name: name)
        }
        used.remove(value.name)
        let unique = unique(name)
        nodes[i].outputs = [unique]
        return ONNXValue(unique, rank: value.rank)
    }

    /// Further outputs of the node that produced `value` (Split's second and third parts).
    mutating func extraOutputs(of value: ONNXValue, _ names: [String]) -> (ONNXValue, ONNXValue) {
        let i = nodes.lastIndex { $0.outputs.first == value.name }!
        let added = names.map { unique($0) }
        nodes[i].outputs += added
        return (ONNXValue(added[0], rank: value.rank), ONNXValue(added[1], rank: value.rank))
    }
}

extension ONNXGraph {
    /// The ONNX element types Lockstep writes.
    enum ElementType: Int { case float = 1, int64 = 7 }

    /// A graph input or output: a tensor of `elementType` whose dimensions are `dims` (nil: a
    /// dynamic dimension, named "batch" when it is the first).
    struct Port {
        var name: String
        var elementType: ElementType
        var dims: [Int?]
    }

    /// The ModelProto: IR version 8, opset 17, `inputs` and `outputs`, metadata as key–value pairs.
    func model(name: String, inputs: [Port], outputs: [Port], metadata: [(String, String)], producerVersion: String) -> [UInt8] {
        var graph = ProtobufWriter()
        for node in nodes {
            var n = ProtobufWriter()
            for input in node.inputs { n.field(1, string: input) }
            for output in node.outputs { n.field(2, string: output) }
            n.field(3, string: node.outputs[0])
            n.field(4, string: node.op)
            for (key, value) in node.attributes {
                var a = ProtobufWriter()
                a.field(1, string: key)
                switch value {
                case let .float(f): a.field(2, float: f); a.field(20, int: 1)
                case let .int(i): a.field(3, int: i); a.field(20, int: 2)
                case let .ints(is_): for i in is_ { a.field(8, int: i) }; a.field(20, int: 7)
                }
                n.field(5, message: a)
            }
            graph.field(1, message: n)
        }
        graph.field(2, string: name)
        for initializer in initializers {
            var t = ProtobufWriter()
            t.field(1, packedInts: initializer.dims)
            if let floats = initializer.floats {
                t.field(2, int: ElementType.float.rawValue)
                t.field(4, packedFloats: floats)
                t.field(8, string: initializer.name)
            } else {
                t.field(2, int: ElementType.int64.rawValue)
                t.field(7, packedInts: initializer.ints ?? [])
                t.field(8, string: initializer.name)
            }
            graph.field(5, message: t)
        }
        for (field, ports) in [(11, inputs), (12, outputs)] {
            for port in ports {
                var shape = ProtobufWriter()
                for (index, dim) in port.dims.enumerated() {
                    var d = ProtobufWriter()
                    if let dim { d.field(1, int: dim) } else if index == 0 { d.field(2, string: "batch") }
                    shape.field(1, message: d)
                }
                var tensorType = ProtobufWriter()
                tensorType.field(1, int: port.elementType.rawValue)
                tensorType.field(2, message: shape)
                var type = ProtobufWriter()
                type.field(1, message: tensorType)
                var info = ProtobufWriter()
                info.field(1, string: port.name)
                info.field(2, message: type)
                graph.field(field, message: info)
            }
        }
        var model = ProtobufWriter()
        model.field(1, int: 8)   // IR version 8: what opset 17 needs
        model.field(2, string: "lockstep")
        model.field(3, string: producerVersion)
        model.field(7, message: graph)
        var opset = ProtobufWriter()
        opset.field(1, string: "")
        opset.field(2, int: 17)
        model.field(8, message: opset)
        for (key, value) in metadata {
            var entry = ProtobufWriter()
            entry.field(1, string: key)
            entry.field(2, string: value)
            model.field(14, message: entry)
        }
        return model.bytes
    }
}
