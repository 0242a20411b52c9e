// Every built-in layer as ONNX nodes (opset 17), in inference form, with its parameters as
// initializers under their state-dict names.

extension ONNXGraph {
    /// `x · Wᵀ + b` for a PyTorch-layout weight [out, in]: Gemm on rows, MatMul over every
    /// position of a sequence.
    mutating func linear(_ x: ONNXValue, weight: Parameter, bias: Parameter?, prefix: String) -> ONNXValue {
        let w = constant(prefix + weight.localName, weight.tensor)
        let b = bias.map { constant(prefix + $0.localName, $0.tensor) }
        if x.rank == 2 {
            return add("Gemm", [x, w] + (b.map { [$0] } ?? []), attributes: [("transB", .int(1))], name: prefix + "Gemm")
        }
        let wt = add("Transpose", [w], attributes: [("perm", .ints([1, 0]))], name: prefix + "weight_t")
        let y = add("MatMul", [x, wt], rank: x.rank, name: prefix + "MatMul")
        return b.map { add("Add", [y, $0], rank: x.rank, name: prefix + "Add") } ?? y
    }

    /// A scalar float constant.
    mutating func scalar(_ name: String, _ value: Float) -> ONNXValue { constant(name, floats: [value], dims: []) }

    /// Dimensions `range` of `x`'s shape, as a 1-D int64 value.
    mutating func shape(of x: ONNXValue, _ range: Range<Int>, name: String) -> ONNXValue {
        let s = add("Shape", [x], rank: 1, name: name + "_shape")
        return add("Slice", [s, constant(name + "_start", ints: [range.lowerBound]), constant(name + "_end", ints: [range.upperBound])],
                   rank: 1, name: name)
    }
}

extension Sequential: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        var x = x
        if let inputShape, x.rank == 2 {   // rows of features → samples of inputShape, as forward does
            x = graph.add("Reshape", [x, graph.constant(prefix + "input_shape", ints: [-1] + inputShape)], rank: inputShape.count + 1,
                          name: prefix + "Reshape")
        }
        if root { return try graph.export(layers[0], x, prefix: prefix) }
        for (i, layer) in layers.enumerated() { x = try graph.export(layer, x, prefix: prefix + "\(i).") }
        return x
    }
}

extension Linear: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.linear(x, weight: weight, bias: bias, prefix: prefix)
    }
}

extension ReLU: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("Relu", [x], name: prefix + "Relu")
    }
}

extension Tanh: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("Tanh", [x], name: prefix + "Tanh")
    }
}

extension Sigmoid: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("Sigmoid", [x], name: prefix + "Sigmoid")
    }
}

extension GELU: ONNXExportable {
    /// The exact GELU, x · Φ(x) = x · (1 + erf(x / √2)) / 2 (opset 17 has no Gelu node).
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let scaled = graph.add("Div", [x, graph.scalar(prefix + "sqrt2", Float(2).squareRoot())], name: prefix + "Div")
        let erf = graph.add("Erf", [scaled], name: prefix + "Erf")
        let onePlus = graph.add("Add", [erf, graph.scalar(prefix + "one", 1)], name: prefix + "Add")
        let times = graph.add("Mul", [x, onePlus], name: prefix + "Mul")
        return graph.add("Mul", [times, graph.scalar(prefix + "half", 0.5)], name: prefix + "Gelu")
    }
}

extension Dropout: ONNXExportable {
    /// The identity: a saved model runs in inference.
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("Identity", [x], name: prefix + "Dropout")
    }
}

extension Dropout2d: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("Identity", [x], name: prefix + "Dropout2d")
    }
}

extension Identity: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("Identity", [x], name: prefix + "Identity")
    }
}

extension LayerNorm: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let scale = graph.constant(prefix + weight.localName, weight.tensor), shift = graph.constant(prefix + bias.localName, bias.tensor)
        return graph.add("LayerNormalization", [x, scale, shift], attributes: [("axis", .int(-1)), ("epsilon", .float(eps))],
                         name: prefix + "LayerNormalization")
    }
}

extension Conv2d: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let inputs = [graph.constant(prefix + weight.localName, weight.tensor)] + (bias.map { [graph.constant(prefix + $0.localName, $0.tensor)] } ?? [])
        return graph.add("Conv", [x] + inputs, attributes: [
            ("kernel_shape", .ints([kernel, kernel])), ("strides", .ints([stride, stride])),
            ("pads", .ints([padding, padding, padding, padding])), ("dilations", .ints([dilation, dilation])), ("group", .int(groups)),
        ], name: prefix + "Conv")
    }
}

extension Conv1d: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let inputs = [graph.constant(prefix + weight.localName, weight.tensor)] + (bias.map { [graph.constant(prefix + $0.localName, $0.tensor)] } ?? [])
        return graph.add("Conv", [x] + inputs, attributes: [
            ("kernel_shape", .ints([kernel])), ("strides", .ints([stride])), ("pads", .ints([padding, padding])),
            ("dilations", .ints([dilation])), ("group", .int(groups)),
        ], name: prefix + "Conv")
    }
}

extension BatchNorm: ONNXExportable {
    /// Inference form: the running statistics.
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let inputs = [weight.tensor, bias.tensor, runningMean.tensor, runningVar.tensor]
        let names = [weight.localName, bias.localName, runningMean.localName, runningVar.localName]
        return graph.add("BatchNormalization", [x] + zip(names, inputs).map { graph.constant(prefix + $0, $1) },
                         attributes: [("epsilon", .float(eps))], name: prefix + "BatchNormalization")
    }
}

extension MaxPool2d: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("MaxPool", [x], attributes: [("kernel_shape", .ints([kernel, kernel])), ("strides", .ints([stride, stride]))],
                  name: prefix + "MaxPool")
    }
}

extension AvgPool2d: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("AveragePool", [x], attributes: [("kernel_shape", .ints([kernel, kernel])), ("strides", .ints([stride, stride]))],
                  name: prefix + "AveragePool")
    }
}

extension AdaptiveAvgPool2d: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("GlobalAveragePool", [x], name: prefix + "GlobalAveragePool")
    }
}

extension Flatten: ONNXExportable {
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        graph.add("Flatten", [x], rank: 2, attributes: [("axis", .int(1))], name: prefix + "Flatten")
    }
}

extension Embedding: ONNXExportable {
    /// Ids arrive as whole floats (Lockstep's features): cast to int64, then rows of the weight.
    /// An id that Lockstep refuses (not whole, negative — which Gather would count from the end —
    /// NaN, or past the table) becomes `count`, which Gather refuses too: an error, never a row.
    public func exportONNX(_ x: ONNXValue, to graph: inout ONNXGraph, prefix: String) throws -> ONNXValue {
        let whole = graph.add("Equal", [graph.add("Floor", [x], name: prefix + "floor"), x], name: prefix + "whole")
        let low = graph.add("GreaterOrEqual", [x, graph.scalar(prefix + "zero", 0)], name: prefix + "not_negative")
        let high = graph.add("Less", [x, graph.scalar(prefix + "count", Float(count))], name: prefix + "in_table")
        let valid = graph.add("And", [graph.add("And", [whole, low], name: prefix + "whole_not_negative"), high], name: prefix + "valid")
        let checked = graph.add("Where", [valid, x, graph.scalar(prefix + "refused", Float(count))], name: prefix + "checked")
        let ids = graph.add("Cast", [checked], attributes: [("to", .int(ONNXGraph.ElementType.int64.rawValue))], name: prefix + "ids")
        return graph.add("Gather", [graph.constant(prefix + weight.localName, weight.tensor), ids], rank: x.rank + 1,
                         attributes: [("axis", .int(0))], name: prefix + "Gather")
    }
}
