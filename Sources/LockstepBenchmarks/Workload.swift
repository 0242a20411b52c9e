import Lockstep
/// The benchmark workloads of DESIGN.md §5: a model, a global batch and a loss, trained with
/// SGD(lr 0.01, momentum 0.9) on seeded synthetic data. The MLPs have ReLU between layers; `cnn`
/// is issue 10's small convolutional network on 1 × 28 × 28 images.
public struct Workload: Sendable, Equatable {
    public var name: String
    public var spec: ModelSpec
    public var batchSize: Int
    public var classification: Bool

    /// An MLP workload of the given widths.
    init(name: String, widths: [Int], batchSize: Int, classification: Bool) {
        self.init(name: name, spec: .mlp(inputs: widths.first!, hidden: Array(widths.dropFirst().dropLast()), outputs: widths.last!),
                  batchSize: batchSize, classification: classification)
    }

    init(name: String, spec: ModelSpec, batchSize: Int, classification: Bool) {
        self.name = name
        self.spec = spec
        self.batchSize = batchSize
        self.classification = classification
    }

    public static let all: [Workload] = [
        Workload(name: "linreg", widths: [1, 1], batchSize: 64, classification: false),
        Workload(name: "mlp-small", widths: [64, 128, 10], batchSize: 64, classification: true),
        Workload(name: "mlp-mnist", widths: [784, 256, 256, 10], batchSize: 128, classification: true),
        Workload(name: "mlp-large", widths: [1024, 4096, 4096, 1024], batchSize: 256, classification: false),
        Workload(name: "cnn", spec: ModelSpec(layers: [
            .conv2d(inChannels: 1, outChannels: 32, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true), .relu,
            .maxPool2d(kernel: 2, stride: 2),
            .conv2d(inChannels: 32, outChannels: 64, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true), .relu,
            .maxPool2d(kernel: 2, stride: 2), .flatten,
            .linear(inFeatures: 3136, outFeatures: 128, bias: true), .relu, .linear(inFeatures: 128, outFeatures: 10, bias: true),
        ], inputShape: [1, 28, 28]), batchSize: 128, classification: true),
    ]

    public static func named(_ name: String) -> Workload? { all.first { $0.name == name } }

    public var loss: any Loss { classification ? CrossEntropyLoss() as any Loss : MSELoss() }

    public static let optimizer = OptimizerSpec.sgd(lr: 0.01, momentum: 0.9)

    /// Numbers per input row and per target row.
    var inputs: Int { spec.inputFeatures! }
    var outputs: Int { spec.outputFeatures! }

    /// Floating-point operations per sample for forward and backward, without the input's
    /// gradient: 2 per multiply-add of each Linear and convolution forward, twice that backward
    /// (weights and input), except the first layer's input gradient.
    public var flopsPerSample: Double {
        let shapes = (try? spec.sampleShapes()) ?? []
        var total = 0.0, first = true, index = spec.inputShape == nil ? 0 : 1
        for layer in spec.layers {
            var mac = 0.0
            switch layer {
            case let .linear(i, o, _): mac = Double(i * o)
            case let .conv2d(i, _, k, _, _, _, g, _):
                // Output elements × the multiply-adds each: C/groups · K².
                mac = Double(shapes[index].reduce(1, *)) * Double(i / g * k * k)
            default: break
            }
            if mac > 0 {
                total += 4 * mac + (first ? 0 : 2 * mac)
                first = false
            }
            index += 1
        }
        return total
    }

    /// `batches` global batches of seeded synthetic rows: normal features, random classes or
    /// normal targets. Each step gathers its batch from these rows.
    public func dataset(batches: Int = 16, seed: UInt64 = 0) throws -> Dataset {
        var rng = RandomGenerator(seed: seed)
        let rows = batches * batchSize
        let x = Tensor.normal(Shape(rows, inputs), using: &rng)
        if classification {
            let y = (0..<rows).map { _ in Float(Int(rng.next() % UInt64(outputs))) }
            return try Dataset(features: x, targets: Tensor(y), task: .classification, classLabels: (0..<outputs).map(String.init))
        }
        return try Dataset(features: x, targets: Tensor.normal(Shape(rows, outputs), using: &rng), task: .regression)
    }
}
