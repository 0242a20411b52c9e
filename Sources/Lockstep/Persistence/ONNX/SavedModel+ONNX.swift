import Foundation

extension SavedModel {
    /// The model as an ONNX file (opset 17), taking what `lockstep predict` takes: input
    /// `features`, raw rows [batch, features] (the standardization is the graph's first nodes);
    /// output `logits` [batch, classes] — for regression the predicted values in the target's own
    /// units — and, for a classifier, `probabilities` (softmax, or the sigmoid of a single logit).
    /// The batch dimension is dynamic. `metadata_props` holds `class_labels`, `feature_names` and
    /// `lockstep` (the model document: architecture, standardization, training summary), as JSON.
    ///
    /// ```swift
    /// let saved = try SavedModel.load(from: "iris.safetensors")
    /// try saved.exportONNX(to: "iris.onnx")
    /// ```
    public func onnx() throws -> [UInt8] {
        var graph = ONNXGraph()
        graph.reserve("features")
        let features = document.featureNames.count
        var x = ONNXValue("features", rank: 2)
        if let s = document.standardization {
            x = graph.add("Sub", [x, graph.constant("standardization.mean", floats: s.mean, dims: [features])], name: "standardized_centered")
            x = graph.add("Div", [x, graph.constant("standardization.std", floats: s.std, dims: [features])], name: "standardized")
        }
        x = try graph.export(model, x, prefix: "")
        if let t = document.targetStandardization {
            x = graph.add("Mul", [x, graph.constant("target_standardization.std", floats: t.std, dims: [t.std.count])], name: "target_scaled")
            x = graph.add("Add", [x, graph.constant("target_standardization.mean", floats: t.mean, dims: [t.mean.count])], name: "target")
        }
        guard x.rank == 2, let outputs = document.spec.outputFeatures else {
            throw ONNXExportError("the model's output is not one row of values per sample (rank \(x.rank)), which `logits` must be")
        }
        let logits = graph.rename(x, to: "logits")
        var ports = [ONNXGraph.Port(name: "logits", elementType: .float, dims: [nil, outputs])]
        if document.task == .classification {
            let p = outputs == 1 ? graph.add("Sigmoid", [logits], name: "probabilities")
                : graph.add("Softmax", [logits], attributes: [("axis", .int(-1))], name: "probabilities")
            ports.append(.init(name: p.name, elementType: .float, dims: [nil, outputs]))
        }
        func json(_ value: some Encodable) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        let metadata = [("class_labels", try json(document.classLabels)), ("feature_names", try json(document.featureNames)),
                        ("lockstep", try json(document))]
        return graph.model(name: "lockstep", inputs: [.init(name: "features", elementType: .float, dims: [nil, features])],
                           outputs: ports, metadata: metadata, producerVersion: LockstepVersion.current)
    }

    /// Writes `onnx()` to `path` atomically (a temporary name, flushed, renamed).
    public func exportONNX(to path: String) throws { try AtomicFile.write(Data(try onnx()), to: path) }
}

extension Module {
    /// This module alone as an ONNX model (opset 17), for a module of one's own that conforms to
    /// `ONNXExportable` (or is built of layers that do): input `input` of floats [batch] +
    /// `sampleShape` (ids as whole numbers for an embedding), output `output`, the batch dynamic.
    ///
    /// ```swift
    /// let bytes = try Sequential(root: Residual(4)).onnx(sampleShape: [4])   // [N, 4] → [N, 4]
    /// ```
    public func onnx(sampleShape: [Int]) throws -> [UInt8] {
        var graph = ONNXGraph()
        graph.reserve("input")
        let y = try graph.export(self, ONNXValue("input", rank: sampleShape.count + 1), prefix: "")
        let output = graph.rename(y, to: "output")
        return graph.model(name: "lockstep", inputs: [.init(name: "input", elementType: .float, dims: [nil] + sampleShape)],
                           outputs: [.init(name: output.name, elementType: .float, dims: Array(repeating: nil, count: y.rank))],
                           metadata: [], producerVersion: LockstepVersion.current)
    }
}
