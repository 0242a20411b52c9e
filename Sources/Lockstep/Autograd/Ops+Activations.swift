extension Variable {
    private func unary(_ op: Op, _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Variable {
        let (out, y) = tape.record(op, self, shape: shape, zeroed: false)
        kernel(tape.data(id), y, shape.count)
        return out
    }

    /// max(x, 0).
    public func relu() -> Variable { unary(.relu) { Kernels.relu($0, $1, $2) } }
    /// The hyperbolic tangent.
    public func tanh() -> Variable { unary(.tanh, Kernels.tanh) }
    /// 1 / (1 + e^−x), computed stably for large |x|.
    public func sigmoid() -> Variable { unary(.sigmoid, Kernels.sigmoid) }
    /// x·Φ(x), the exact GELU (PyTorch's `nn.GELU()` default).
    public func gelu() -> Variable {
        let n = shape.count, cdf = tape.mode == .training ? tape.arena.allocate(n, zeroed: false) : nil
        let (out, y) = tape.record(.gelu, self, shape: shape, saved: cdf, zeroed: false)
        Kernels.gelu(tape.data(id), y, n, cdf: cdf)
        return out
    }

    /// Inverted dropout: each element is zeroed with probability `p` and the rest scaled by
    /// 1/(1−p), in training mode only. The mask of row r is drawn from (tape.seed, tape.step,
    /// tape.rowOffset + r, the call's index in this forward pass): the same for any worker count.
    public func dropout(_ p: Float) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard p >= 0 && p < 1 else { return tape.fail("dropout probability must be in [0, 1), got \(p)") }
        guard tape.mode == .training, p > 0 else { return self }
        let call = tape.dropoutCalls
        tape.dropoutCalls += 1
        let rows = shape.rows, columns = shape.columns, keepScale = 1 / (1 - p)
        let mask = tape.arena.allocate(shape.count, zeroed: false)
        for r in 0..<rows {
            var rng = RandomGenerator(seed: tape.seed, UInt64(tape.step), UInt64(tape.rowOffset + r) << 16 | call)
            for c in 0..<columns { mask[r * columns + c] = rng.nextUniform() < p ? 0 : keepScale }
        }
        let (out, y) = tape.record(.dropout, self, shape: shape, saved: mask, zeroed: false)
        Kernels.mul(tape.data(id), mask, y, rows: 1, columns: shape.count, broadcast: .none)
        return out
    }

    /// Channel dropout (PyTorch's `nn.Dropout2d`): each channel of each sample is zeroed whole with
    /// probability `p` and the rest scaled by 1/(1−p), in training mode only; masks are keyed as
    /// `dropout`'s, by global row, so any number of workers draws the same ones.
    ///
    /// Shape: [N, C, H, W] → [N, C, H, W].
    public func dropout2d(_ p: Float) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard p >= 0 && p < 1 else { return tape.fail("dropout2d probability must be in [0, 1), got \(p)") }
        guard shape.rank == 4 else { return tape.fail("dropout2d needs [N, C, H, W], got \(shape)") }
        guard tape.mode == .training, p > 0 else { return self }
        let call = tape.dropoutCalls
        tape.dropoutCalls += 1
        let (rows, channels, plane) = (shape[0], shape[1], shape[2] * shape[3]), keepScale = 1 / (1 - p)
        let mask = tape.arena.allocate(shape.count, zeroed: false)
        for r in 0..<rows {
            var rng = RandomGenerator(seed: tape.seed, UInt64(tape.step), UInt64(tape.rowOffset + r) << 16 | call)
            for c in 0..<channels {
                let keep: Float = rng.nextUniform() < p ? 0 : keepScale
                (mask + (r * channels + c) * plane).update(repeating: keep, count: plane)
            }
        }
        let (out, y) = tape.record(.dropout, self, shape: shape, saved: mask, zeroed: false)
        Kernels.mul(tape.data(id), mask, y, rows: 1, columns: shape.count, broadcast: .none)
        return out
    }
}
