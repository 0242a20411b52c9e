extension ModelSpec {
    /// The widest layer Lockstep builds: BLAS takes 32-bit dimensions.
    public static let maxWidth = Int(Int32.max)

    /// Throws unless the layers chain (each Linear takes the width the layer before gives, a
    /// LayerNorm normalizes that width), every width is in 1…`maxWidth`, dropout is in [0, 1)
    /// and LayerNorm's eps is positive: what a model file edited by hand must satisfy before a
    /// model is built from it.
    public func validate() throws { _ = try sampleShapes() }

    /// The shape of one sample after each layer (the input's first), as `validate()` infers them;
    /// for an MLP without `inputShape`, from its first Linear on.
    public func sampleShapes() throws -> [[Int]] {
        guard !layers.isEmpty else { throw ConfigurationError("the model has no layers") }
        var shapes: [[Int]] = []
        // The shape of one sample after each layer, as far as it is known: from `inputShape`, or
        // from the first layer with a width.
        var sample: [Int]? = try inputShape.map { shape in
            guard (1...3).contains(shape.count), shape.allSatisfy({ (1...Self.maxWidth).contains($0) }) else {
                throw ConfigurationError("'input_shape' is \(shape); it must be 1 to 3 sizes in 1…\(Self.maxWidth), [C, H, W] for images")
            }
            // Multiplied with overflow checks: three sizes of 2^31 − 1 overflow Int (a trap, not an error).
            let product = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            guard product <= Self.maxWidth else {
                throw ConfigurationError("'input_shape' is \(shape): \(product == Int.max ? "more than \(Int.max)" : "\(product)") values a sample; at most \(Self.maxWidth)")
            }
            return shape
        }
        func positive(_ i: Int, _ kind: String, _ values: [(String, Int)], atLeast minimum: Int = 1) throws {
            for (name, n) in values where !(minimum...Self.maxWidth).contains(n) {
                throw ConfigurationError("layer \(i) (\(kind)): '\(name)' is \(n); it must be in \(minimum)…\(Self.maxWidth)")
            }
        }
        func takes(_ i: Int, _ kind: String, features: Int, verb: String = "takes") throws {
            guard let given = sample else { return }
            guard given == [features] else {
                throw ConfigurationError("layer \(i) (\(kind)) \(verb) \(features) features, but the layer before gives "
                                         + (given.count == 1 ? "\(given[0])" : "samples of shape \(given) (flatten them first)"))
            }
        }
        func image(_ i: Int, _ kind: String) throws -> (c: Int, h: Int, w: Int) {
            guard let given = sample, given.count == 3 else {
                throw ConfigurationError("layer \(i) (\(kind)) needs samples of shape [C, H, W], but "
                                         + (sample.map { "the layer before gives \($0)" } ?? "the model has no 'input_shape'"))
            }
            return (given[0], given[1], given[2])
        }
        for (i, layer) in layers.enumerated() {
            switch layer {
            case let .linear(inputs, outputs, _):
                try positive(i, "linear", [("in", inputs), ("out", outputs)])
                try takes(i, "linear", features: inputs)
                sample = [outputs]
            case let .layerNorm(features, eps):
                try positive(i, "layer_norm", [("features", features)])
                guard eps > 0, eps.isFinite else { throw ConfigurationError("layer \(i) (layer_norm): 'eps' must be positive, got \(eps)") }
                // Over the last dimension: a vector, or each position of a sequence [T, D].
                if let given = sample, given.count > 1 {
                    guard given.last == features else {
                        throw ConfigurationError("layer \(i) (layer_norm) normalizes \(features) features, but the layer before gives samples of shape \(given)")
                    }
                } else {
                    try takes(i, "layer_norm", features: features, verb: "normalizes")
                    sample = [features]
                }
            case let .dropout(p), let .dropout2d(p):
                guard p >= 0, p < 1 else { throw ConfigurationError("layer \(i) (\(layer.typeName)): 'p' must be in [0, 1), got \(p)") }
                if case .dropout2d = layer { _ = try image(i, "dropout2d") }
            case .relu, .tanh, .sigmoid, .gelu, .identity:
                break
            case let .conv2d(inputs, outputs, kernel, stride, padding, dilation, groups, _):
                try positive(i, "conv2d", [("in", inputs), ("out", outputs), ("kernel", kernel), ("stride", stride),
                                           ("dilation", dilation), ("groups", groups)])
                try positive(i, "conv2d", [("padding", padding)], atLeast: 0)
                guard inputs % groups == 0, outputs % groups == 0 else {
                    throw ConfigurationError("layer \(i) (conv2d): 'groups' \(groups) must divide 'in' \(inputs) and 'out' \(outputs)")
                }
                let (c, h, w) = try image(i, "conv2d")
                guard c == inputs else {
                    throw ConfigurationError("layer \(i) (conv2d) takes \(inputs) channels, but the layer before gives \(c) (samples \(sample!))")
                }
                let span = dilation * (kernel - 1) + 1
                let oh = (h + 2 * padding - span) / stride + 1, ow = (w + 2 * padding - span) / stride + 1
                guard h + 2 * padding >= span, w + 2 * padding >= span else {
                    throw ConfigurationError("layer \(i) (conv2d): a \(kernel)×\(kernel) kernel (dilation \(dilation)) does not fit "
                                             + "samples of \(sample!) padded by \(padding)")
                }
                sample = [outputs, oh, ow]
            case let .conv1d(inputs, outputs, kernel, stride, padding, dilation, groups, _):
                try positive(i, "conv1d", [("in", inputs), ("out", outputs), ("kernel", kernel), ("stride", stride),
                                           ("dilation", dilation), ("groups", groups)])
                try positive(i, "conv1d", [("padding", padding)], atLeast: 0)
                guard inputs % groups == 0, outputs % groups == 0 else {
                    throw ConfigurationError("layer \(i) (conv1d): 'groups' \(groups) must divide 'in' \(inputs) and 'out' \(outputs)")
                }
                guard let given = sample, given.count == 2 else {
                    throw ConfigurationError("layer \(i) (conv1d) needs samples of shape [C, L], but "
                                             + (sample.map { "the layer before gives \($0)" } ?? "the model has no 'input_shape'"))
                }
                guard given[0] == inputs else {
                    throw ConfigurationError("layer \(i) (conv1d) takes \(inputs) channels, but the layer before gives \(given[0]) (samples \(given))")
                }
                let span = dilation * (kernel - 1) + 1
                guard given[1] + 2 * padding >= span else {
                    throw ConfigurationError("layer \(i) (conv1d): a kernel of \(kernel) (dilation \(dilation)) does not fit samples of \(given) padded by \(padding)")
                }
                sample = [outputs, (given[1] + 2 * padding - span) / stride + 1]
            case let .batchNorm1d(features, eps, momentum), let .batchNorm2d(features, eps, momentum):
                try positive(i, layer.typeName, [("features", features)])
                guard eps > 0, eps.isFinite else { throw ConfigurationError("layer \(i) (\(layer.typeName)): 'eps' must be positive, got \(eps)") }
                guard momentum >= 0, momentum <= 1 else {
                    throw ConfigurationError("layer \(i) (\(layer.typeName)): 'momentum' must be in [0, 1], got \(momentum)")
                }
                if case .batchNorm2d = layer {
                    let (c, _, _) = try image(i, "batch_norm2d")
                    guard c == features else {
                        throw ConfigurationError("layer \(i) (batch_norm2d) normalizes \(features) channels, but the layer before gives \(c) (samples \(sample!))")
                    }
                } else if let given = sample {
                    guard given.count <= 2, given[0] == features else {
                        throw ConfigurationError("layer \(i) (batch_norm1d) normalizes \(features) features, but the layer before gives samples of \(given)")
                    }
                } else {
                    sample = [features]
                }
            case let .embedding(count, dim):
                try positive(i, "embedding", [("num_embeddings", count), ("embedding_dim", dim)])
                guard let ids = sample, ids.count <= 2 else {
                    throw ConfigurationError("layer \(i) (embedding) takes ids of shape [] or [T] a sample, but "
                                             + (sample.map { "the layer before gives \($0)" } ?? "the model has no 'input_shape'"))
                }
                sample = ids + [dim]
            case let .maxPool2d(kernel, stride), let .avgPool2d(kernel, stride):
                try positive(i, layer.typeName, [("kernel", kernel), ("stride", stride)])
                let (c, h, w) = try image(i, layer.typeName)
                guard h >= kernel, w >= kernel else {
                    throw ConfigurationError("layer \(i) (\(layer.typeName)): a \(kernel)×\(kernel) window does not fit samples of \(sample!)")
                }
                sample = [c, (h - kernel) / stride + 1, (w - kernel) / stride + 1]
            case .adaptiveAvgPool2d:
                let (c, h, w) = try image(i, "adaptive_avg_pool2d")
                guard h == w else { throw ConfigurationError("layer \(i) (adaptive_avg_pool2d) pools square planes here, got \(sample!)") }
                sample = [c, 1, 1]
            case .flatten:
                guard let given = sample else {
                    throw ConfigurationError("layer \(i) (flatten) needs to know the sample's shape: give the model an 'input_shape'")
                }
                sample = [given.reduce(1, *)]
            }
            if let sample { shapes.append(sample) }
        }
        guard sample != nil else { throw ConfigurationError("the model has no layer with a width (linear, layer_norm or batch_norm1d)") }
        return (inputShape.map { [$0] } ?? []) + shapes
    }

    /// Whether a batch norm layer normalizes vectors ([N, C] batches), so that each channel has
    /// one value per row: a batch of one row cannot be normalized in training.
    public var normalizesVectorsOverTheBatch: Bool {
        guard let shapes = try? sampleShapes() else { return false }
        let offset = shapes.count - layers.count   // with an input shape, shapes[0] is the input
        for (i, layer) in layers.enumerated() {
            guard case .batchNorm1d = layer else { continue }
            let before = i + offset - 1
            if before < 0 || shapes[before].count == 1 { return true }
        }
        return false
    }

    /// Scalars of the buffers (running statistics), which a model file holds beside the
    /// parameters: batch norm's running mean and variance and its batch count. Call after `validate()`.
    public var bufferCount: Int {
        layers.reduce(0) { total, layer in
            switch layer {
            case let .batchNorm1d(f, _, _), let .batchNorm2d(f, _, _): return total + 2 * f + 1
            default: return total
            }
        }
    }

    /// Throws unless training fits in the machine's memory: `replicas` copies of the parameters
    /// (values, gradients, two optimizer buffers) and each worker's activations and their
    /// gradients for its share of a batch of `batchRows` (every layer's output, kept for backward).
    /// A convolution's outputs can dwarf its weights: this is where a size stops before it becomes
    /// an allocation that fails.
    public func checkMemory(batchRows: Int, replicas: Int) throws {
        let parameters = try checkedParameterCount(replicas: replicas)
        let shapes = try sampleShapes()
        let perSample = shapes.reduce(0.0) { $0 + $1.reduce(1.0) { $0 * Double($1) } }
        // A convolution lays one sample's windows out as columns (im2col), forward and backward:
        // C/groups · K² (K for 1-D) rows × output positions, per worker.
        var columns = 0.0
        if inputShape != nil {
            for (i, layer) in layers.enumerated() {
                let positions = Double(shapes[i + 1].dropFirst().reduce(1, *))
                switch layer {
                case let .conv2d(c, _, k, _, _, _, g, _): columns = max(columns, Double(c / g * k * k) * positions)
                case let .conv1d(c, _, k, _, _, _, g, _): columns = max(columns, Double(c / g * k) * positions)
                default: break
                }
            }
        }
        let rowsPerWorker = Double((max(batchRows, 1) + max(replicas, 1) - 1) / max(replicas, 1))
        let needed = (Double(parameters) * 4 + perSample * rowsPerWorker * 2 + 2 * columns) * 4 * Double(max(replicas, 1))
        let memory = physicalMemoryBytes()
        if memory > 0, needed > memory {
            throw ConfigurationError("the model's parameters and the activations of a batch of \(batchRows) need about \(gigabytes(needed)) "
                                     + "of memory over \(replicas) worker\(replicas == 1 ? "" : "s"), and this machine has \(gigabytes(memory)); "
                                     + "use a smaller batch or model")
        }
    }

    /// The parameter count, computed without overflow, after checking that `replicas` copies of
    /// the model (values, gradients and two optimizer buffers each) fit in the machine's memory.
    /// Throws, with the sizes, for a model that will not fit.
    public func checkedParameterCount(replicas: Int = 1) throws -> Int {
        try validate()
        var total = 0
        for layer in layers {
            let n: (Int, Bool)
            switch layer {
            case let .linear(i, o, bias):
                let w = i.multipliedReportingOverflow(by: o)
                n = w.overflow ? w : w.partialValue.addingReportingOverflow(bias ? o : 0)
            case let .layerNorm(f, _): n = f.multipliedReportingOverflow(by: 2)
            case let .conv2d(i, o, k, _, _, _, g, bias):
                // validate() bounded every size by maxWidth, so these products fit in 64 bits.
                let w = (o * (i / g)).multipliedReportingOverflow(by: k * k)
                n = w.overflow ? w : w.partialValue.addingReportingOverflow(bias ? o : 0)
            case let .conv1d(i, o, k, _, _, _, g, bias):
                let w = (o * (i / g)).multipliedReportingOverflow(by: k)
                n = w.overflow ? w : w.partialValue.addingReportingOverflow(bias ? o : 0)
            case let .batchNorm1d(f, _, _), let .batchNorm2d(f, _, _): n = f.multipliedReportingOverflow(by: 2)
            case let .embedding(count, dim): n = count.multipliedReportingOverflow(by: dim)
            default: n = (0, false)
            }
            let sum = total.addingReportingOverflow(n.0)
            guard !n.1, !sum.overflow else { throw ConfigurationError("the model has more parameters than can be counted") }
            total = sum.partialValue
        }
        let perReplica = Double(total) * 4 * 4   // values, gradients, two optimizer buffers; Float32
        let needed = perReplica * Double(max(replicas, 1))
        let memory = physicalMemoryBytes()
        if memory > 0, needed > memory {
            throw ConfigurationError("the model has \(total) parameters: \(replicas) worker\(replicas == 1 ? "" : "s") need about "
                                     + "\(gigabytes(needed)) of memory for them, and this machine has \(gigabytes(memory))")
        }
        return total
    }
}

private func gigabytes(_ bytes: Double) -> String {
    bytes >= 1e9 ? "\(Int((bytes / 1e9).rounded())) GB" : "\(Int((bytes / 1e6).rounded())) MB"
}
