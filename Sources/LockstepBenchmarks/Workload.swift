import Lockstep
/// The benchmark workloads of DESIGN.md §5: an MLP (ReLU between layers), a global batch and a
/// loss, trained with SGD(lr 0.01, momentum 0.9) on seeded synthetic data.
public struct Workload: Sendable, Equatable {
    public var name: String
    public var widths: [Int]
    public var batchSize: Int
    public var classification: Bool

    public static let all: [Workload] = [
        Workload(name: "linreg", widths: [1, 1], batchSize: 64, classification: false),
        Workload(name: "mlp-small", widths: [64, 128, 10], batchSize: 64, classification: true),
        Workload(name: "mlp-mnist", widths: [784, 256, 256, 10], batchSize: 128, classification: true),
        Workload(name: "mlp-large", widths: [1024, 4096, 4096, 1024], batchSize: 256, classification: false),
    ]

    public static func named(_ name: String) -> Workload? { all.first { $0.name == name } }

    public var spec: ModelSpec {
        ModelSpec.mlp(inputs: widths.first!, hidden: Array(widths.dropFirst().dropLast()), outputs: widths.last!)
    }

    public var loss: any Loss { classification ? CrossEntropyLoss() as any Loss : MSELoss() }

    public static let optimizer = OptimizerSpec.sgd(lr: 0.01, momentum: 0.9)

    /// Floating-point operations per sample for forward and backward, without the input's
    /// gradient (2·in·out per layer forward, twice that backward, except the first layer's dX).
    public var flopsPerSample: Double {
        var total = 0.0
        for i in 0..<(widths.count - 1) {
            let mac = Double(widths[i] * widths[i + 1])
            total += 2 * mac + 2 * mac + (i > 0 ? 2 * mac : 0)
        }
        return total
    }

    /// `batches` global batches of seeded synthetic rows: normal features, random classes or
    /// normal targets. Each step gathers its batch from these rows.
    public func dataset(batches: Int = 16, seed: UInt64 = 0) throws -> Dataset {
        var rng = RandomGenerator(seed: seed)
        let rows = batches * batchSize
        let x = Tensor.normal(Shape(rows, widths.first!), using: &rng)
        if classification {
            let y = (0..<rows).map { _ in Float(Int(rng.next() % UInt64(widths.last!))) }
            return try Dataset(features: x, targets: Tensor(y), task: .classification,
                           classLabels: (0..<widths.last!).map(String.init))
        }
        return try Dataset(features: x, targets: Tensor.normal(Shape(rows, widths.last!), using: &rng), task: .regression)
    }
}
