import Lockstep
/// The benchmark workloads of DESIGN.md §5: a model, a global batch and a loss, trained with
/// SGD(lr 0.01, momentum 0.9) on seeded synthetic data. The MLPs have ReLU between layers; `cnn`
/// is issue 10's small convolutional network on 1 × 28 × 28 images; `transformer` is
/// Examples/ByteLM's byte-level GPT with AdamW(lr 3e-4), on windows of 64 seeded random bytes.
public struct Workload: Sendable {
    public var name: String
    /// The architecture, for the built-in layers' workloads; nil for `transformer` (a class).
    public var spec: ModelSpec?
    public var batchSize: Int
    public var classification: Bool
    public var optimizer = OptimizerSpec.sgd(lr: 0.01, momentum: 0.9)
    /// Positions per sample of a sequence workload: tokens/s = samples/s × this.
    public var tokensPerSample: Int?

    /// An MLP workload of the given widths.
    init(name: String, widths: [Int], batchSize: Int, classification: Bool) {
        self.init(name: name, spec: .mlp(inputs: widths.first!, hidden: Array(widths.dropFirst().dropLast()), outputs: widths.last!),
                  batchSize: batchSize, classification: classification)
    }

    init(name: String, spec: ModelSpec?, batchSize: Int, classification: Bool) {
        self.name = name
        self.spec = spec
        self.batchSize = batchSize
        self.classification = classification
    }

    /// The byte-level GPT of Examples/ByteLM: batches of 32 windows of 64 bytes.
    static var transformer: Workload {
        var w = Workload(name: "transformer", spec: nil, batchSize: 32, classification: true)
        w.optimizer = .adamW(lr: 3e-4)
        w.tokensPerSample = ByteGPT.context
        return w
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
        transformer,
    ]

    public static func named(_ name: String) -> Workload? { all.first { $0.name == name } }

    public var loss: any Loss { classification ? CrossEntropyLoss() as any Loss : MSELoss() }

    /// A trainer of this workload's model on `workers` workers.
    public func trainer(workers: Int, placement: Placement = .packed, topology: Topology = .current()) throws -> DataParallelTrainer {
        guard let spec else {
            return try DataParallelTrainer(workers: workers, placement: placement, topology: topology, model: { ByteGPT() },
                                           loss: loss, optimizer: optimizer)
        }
        return try DataParallelTrainer(workers: workers, placement: placement, topology: topology, model: spec,
                                       loss: loss, optimizer: optimizer)
    }

    /// Numbers per input row and per target row.
    var inputs: Int { spec?.inputFeatures ?? ByteGPT.context }
    var outputs: Int { spec?.outputFeatures ?? 256 }

    /// Floating-point operations per sample for forward and backward, without the input's
    /// gradient: 2 per multiply-add of each Linear and convolution forward, twice that backward
    /// (weights and input), except the first layer's input gradient.
    public var flopsPerSample: Double {
        guard let spec else { return Self.transformerFlopsPerSample }
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

    /// The transformer's floating-point operations per 64-token sample, forward and backward:
    /// per token and block the four projections (3D², D², 2 × 4D² multiply-adds) and attention's
    /// Q·Kᵀ and P·V over all T positions (2 · T · D, the masked half included: it is computed),
    /// then the 256-way head; 6 per multiply-add (forward 2, backward 4).
    static var transformerFlopsPerSample: Double {
        let d = 128.0, t = Double(ByteGPT.context)
        let block = 3 * d * d + d * d + 2 * 4 * d * d + 2 * t * d
        return 6 * t * (2 * block + d * 256)
    }

    /// `batches` global batches of seeded synthetic rows: normal features, random classes or
    /// normal targets; for `transformer`, windows at random offsets into 64 KB of random bytes.
    /// Each step gathers its batch from these rows.
    public func data(batches: Int = 16, seed: UInt64 = 0) throws -> any DataSource {
        guard spec != nil else {
            var rng = RandomGenerator(seed: seed)
            let bytes = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            return try TokenWindows(bytes, context: ByteGPT.context, offsets: .random(count: batches * batchSize, seed: seed))
        }
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
