/// A module's state as a safetensors file: what a model of the caller's own classes saves and
/// loads, as PyTorch's `torch.save(model.state_dict())` / `load_state_dict` do — by name.
extension Module {
    /// Writes `stateDict()` atomically as a safetensors file: PyTorch's names and shapes, Float32,
    /// integer buffers (`num_batches_tracked`) as Int64, so that
    /// `model.load_state_dict(safetensors.torch.load_file(path))` loads it into the PyTorch twin.
    ///
    /// ```swift
    /// try trainer.model.save(to: "net.safetensors")
    /// let net = Net()
    /// try net.load(from: "net.safetensors")   // strict: missing, extra or mis-shaped tensors are named
    /// ```
    public func save(to path: String) throws {
        var file = SafeTensors(metadata: ["format": "pt"])
        file.appendState(of: self)
        try file.write(to: path)
    }

    /// Reads a safetensors file of tensors by name into this module's parameters and buffers,
    /// strictly (see `loadStateDict`); nothing changes unless every tensor fits.
    public func load(from path: String) throws {
        let file = try SafeTensors.read(at: path)
        var state: [String: Tensor] = [:]
        for name in file.names {
            let t = try file.tensor(name)
            guard t.scalars.allSatisfy(\.isFinite) else { throw FileError(path: path, "tensor '\(name)' holds values that are not finite") }
            state[name] = t
        }
        do { try loadStateDict(state) } catch { throw FileError(path: path, "\(error)") }
    }
}

extension SafeTensors {
    /// Adds every parameter and buffer of `module` under its state_dict name.
    mutating func appendState(of module: any Module) {
        for (name, p) in module.namedParameters { append(name, p.tensor) }
        for (name, buffer) in module.namedBuffers {
            if buffer.isInteger {
                // Whole numbers up to 2^24 by `Buffer.check`; anything else a bug must not make a trap.
                append(name, integers: buffer.tensor.scalars.map { $0.isFinite && abs($0) <= Buffer.integerLimit ? Int64($0) : -1 },
                       shape: buffer.shape.dimensions)
            } else {
                append(name, buffer.tensor)
            }
        }
    }
}
