#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Small data sets generated from a seed, for examples, tests and benchmarks.
extension Dataset {
    /// The names `builtin(_:seed:)` accepts.
    public static let builtinNames = ["linear", "spirals", "blobs"]

    /// A built-in data set by name (`linear`, `spirals`, `blobs`), or nil.
    public static func builtin(_ name: String, seed: UInt64 = 0) -> Dataset? {
        switch name {
        case "linear": return linear(seed: seed)
        case "spirals": return spirals(seed: seed)
        case "blobs": return blobs(seed: seed)
        default: return nil
        }
    }

    /// The true weight and bias of `linear`.
    public static let linearTruth = (weight: Float(0.7), bias: Float(0.3))

    /// The lecture's straight line: y = 0.7·x + 0.3 + N(0, noise²), x uniform in [0, 1).
    public static func linear(count: Int = 1000, noise: Float = 0.01, seed: UInt64 = 0) -> Dataset {
        var rng = RandomGenerator(seed: seed)
        var x = [Float](), y = [Float]()
        for _ in 0..<count {
            let v = rng.nextUniform()
            x.append(v)
            y.append(linearTruth.weight * v + linearTruth.bias + noise * rng.nextNormal())
        }
        return Dataset(checked: Tensor(x, shape: Shape(count, 1)), targets: Tensor(y, shape: Shape(count, 1)),
                       featureNames: ["x"], targetName: "y", task: .regression, classLabels: nil)
    }

    /// Interleaved spiral arms in the plane, one class per arm (CS231n's classic).
    public static func spirals(pointsPerClass: Int = 100, classes: Int = 3, seed: UInt64 = 0) -> Dataset {
        var rng = RandomGenerator(seed: seed)
        var x = [Float](), y = [Float]()
        for c in 0..<classes {
            for i in 0..<pointsPerClass {
                let r = Float(i) / Float(max(pointsPerClass - 1, 1))
                let angle = Float(c) * 4 + r * 4 + 0.2 * rng.nextNormal()
                x += [r * sinf(angle), r * cosf(angle)]
                y.append(Float(c))
            }
        }
        return Dataset(checked: Tensor(x, shape: Shape(classes * pointsPerClass, 2)), targets: Tensor(y),
                       featureNames: ["x1", "x2"], targetName: "arm", task: .classification, classLabels: nil)
    }

    /// Gaussian clusters with unit spread around centers drawn in [−6, 6]^features.
    public static func blobs(count: Int = 300, features: Int = 2, classes: Int = 3, seed: UInt64 = 0) -> Dataset {
        var rng = RandomGenerator(seed: seed)
        let centers = (0..<classes).map { _ in (0..<features).map { _ in rng.nextUniform(-6, 6) } }
        var x = [Float](), y = [Float]()
        for i in 0..<count {
            let c = i % classes
            for f in 0..<features { x.append(centers[c][f] + rng.nextNormal()) }
            y.append(Float(c))
        }
        return Dataset(checked: Tensor(x, shape: Shape(count, features)), targets: Tensor(y),
                       featureNames: (0..<features).map { "x\($0 + 1)" }, targetName: "cluster", task: .classification, classLabels: nil)
    }
}
