#if canImport(Glibc)
import Glibc
#endif

extension ModelSpec {
    /// The widest layer Lockstep builds: BLAS takes 32-bit dimensions.
    public static let maxWidth = Int(Int32.max)

    /// Throws unless the layers chain (each Linear takes the width the layer before gives, a
    /// LayerNorm normalizes that width), every width is in 1…`maxWidth`, dropout is in [0, 1)
    /// and LayerNorm's eps is positive: what a model file edited by hand must satisfy before a
    /// model is built from it.
    public func validate() throws {
        guard !layers.isEmpty else { throw ConfigurationError("the model has no layers") }
        var width: Int?
        for (i, layer) in layers.enumerated() {
            switch layer {
            case let .linear(inputs, outputs, _):
                for (name, n) in [("in", inputs), ("out", outputs)] where !(1...Self.maxWidth).contains(n) {
                    throw ConfigurationError("layer \(i) (linear): '\(name)' is \(n); it must be in 1…\(Self.maxWidth)")
                }
                if let width, width != inputs {
                    throw ConfigurationError("layer \(i) (linear) takes \(inputs) features, but the layer before gives \(width)")
                }
                width = outputs
            case let .layerNorm(features, eps):
                guard (1...Self.maxWidth).contains(features) else {
                    throw ConfigurationError("layer \(i) (layer_norm): 'features' is \(features); it must be in 1…\(Self.maxWidth)")
                }
                guard eps > 0, eps.isFinite else { throw ConfigurationError("layer \(i) (layer_norm): 'eps' must be positive, got \(eps)") }
                if let width, width != features {
                    throw ConfigurationError("layer \(i) (layer_norm) normalizes \(features) features, but the layer before gives \(width)")
                }
                width = features
            case let .dropout(p):
                guard p >= 0, p < 1 else { throw ConfigurationError("layer \(i) (dropout): 'p' must be in [0, 1), got \(p)") }
            case .relu, .tanh, .sigmoid, .gelu:
                break
            }
        }
        guard width != nil else { throw ConfigurationError("the model has no layer with a width (linear or layer_norm)") }
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
            default: n = (0, false)
            }
            let sum = total.addingReportingOverflow(n.0)
            guard !n.1, !sum.overflow else { throw ConfigurationError("the model has more parameters than can be counted") }
            total = sum.partialValue
        }
        let perReplica = Double(total) * 4 * 4   // values, gradients, two optimizer buffers; Float32
        let needed = perReplica * Double(max(replicas, 1))
        let memory = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
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
