#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The fused loss ops. Each returns Σ over rows of the row's loss ÷ `divisor`, where a row's loss
/// is the mean over its output columns: with `divisor` = the rows of this batch this is PyTorch's
/// `reduction="mean"`; the data-parallel engine passes the *global* batch rows so that the
/// workers' losses and gradients simply add up.
extension Variable {
    private func pointwiseLoss(_ op: Op, _ target: Variable, divisor: Float, delta: Float = 1,
                               _ f: (Float) -> Float) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let shape = self.shape   // once: each read asks the tape
        guard target.shape.count == shape.count else {
            return tape.fail("loss: target \(target.shape) does not match prediction \(shape)")
        }
        precondition(divisor > 0, "loss divisor must be positive")
        let (out, y) = tape.record(op, self, target, shape: .scalar, scalar: divisor, extra: delta)
        let p = tape.data(id), t = tape.data(target.id), n = shape.count
        var s: Double = 0
        for i in 0..<n { s += Double(f(p[i] - t[i])) }
        y[0] = Float(s / Double(max(shape.columns, 1)) / Double(divisor))
        return out
    }

    /// Squared error, (p − t)², per element.
    public func mseLoss(_ target: Variable, divisor: Float) -> Variable {
        pointwiseLoss(.mse, target, divisor: divisor) { $0 * $0 }
    }

    /// Absolute error, |p − t|, per element.
    public func l1Loss(_ target: Variable, divisor: Float) -> Variable {
        pointwiseLoss(.l1, target, divisor: divisor) { abs($0) }
    }

    /// Huber loss per element: ½d² for |d| < δ, else δ(|d| − ½δ) (PyTorch's `HuberLoss`).
    public func huberLoss(_ target: Variable, delta: Float = 1, divisor: Float) -> Variable {
        pointwiseLoss(.huber, target, divisor: divisor, delta: delta) { d in
            abs(d) < delta ? 0.5 * d * d : delta * (abs(d) - 0.5 * delta)
        }
    }

    /// Cross-entropy of logits [rows, classes] against class indices [rows] (stored as Floats),
    /// through a fused, stable log-softmax. Sequences too: logits [N, T, classes] against
    /// indices [N, T] — a sample's loss is the mean over its T positions, so with the batch's
    /// rows as divisor this is PyTorch's mean over all N·T tokens.
    public func crossEntropyLoss(_ target: Variable, divisor: Float) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let sequence = shape.rank == 3, t = target.shape
        // [rows] (or [rows, 1]) for rows of logits; exactly [N, T] for a sequence's: [N, T] targets
        // against logits flattened to [N·T, V] would divide a sum over N·T rows by N.
        let fits = sequence ? t.rank == 2 && t[0] == shape[0] && t[1] == shape[1]
                            : shape.rank == 2 && (t.rank == 1 || (t.rank == 2 && t[1] == 1)) && t.count == shape[0]
        guard fits else {
            return tape.fail("cross-entropy: logits \(shape) need "
                             + (sequence ? "targets [\(shape[0]), \(shape[1])], one class index per position"
                                         : "one class index per row, [\(shape.rank >= 1 ? shape[0] : 0)]")
                             + ", got \(t)" + (!sequence && t.rank == 2 ? " (keep the logits [N, T, classes] for [N, T] targets)" : ""))
        }
        precondition(divisor > 0, "loss divisor must be positive")
        let classes = shape[shape.rank - 1], rows = target.shape.count, positions = sequence ? shape[1] : 1
        let ids = tape.data(target.id)
        if let r = (0..<rows).first(where: { !(ids[$0] >= 0 && ids[$0] < Float(classes) && ids[$0] == ids[$0].rounded()) }) {
            return tape.fail("cross-entropy: class index \(ids[r]) outside 0..<\(classes) (the model gives \(classes) outputs)")
        }
        let probabilities = tape.arena.allocate(shape.count, zeroed: false)
        let (out, y) = tape.record(.crossEntropy, self, target, shape: .scalar, scalar: divisor * Float(positions), saved: probabilities)
        let x = tape.data(id)
        Kernels.logSoftmaxRows(x, probabilities, rows: rows, columns: classes)
        var s: Double = 0
        for r in 0..<rows {
            s -= Double(probabilities[r * classes + Int(ids[r])])
        }
        for i in 0..<shape.count { probabilities[i] = expf(probabilities[i]) }
        y[0] = Float(s / Double(divisor) / Double(positions))
        return out
    }

    /// Binary cross-entropy on logits against targets in [0, 1], stable for large |x|:
    /// max(x, 0) − x·t + log(1 + e^−|x|).
    public func binaryCrossEntropyWithLogits(_ target: Variable, divisor: Float) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard target.shape.count == shape.count else { return tape.fail("BCE: target \(target.shape) does not match logits \(shape)") }
        precondition(divisor > 0, "loss divisor must be positive")
        let (out, y) = tape.record(.bceWithLogits, self, target, shape: .scalar, scalar: divisor)
        let x = tape.data(id), t = tape.data(target.id)
        var s: Double = 0
        for i in 0..<shape.count {
            s += Double(max(x[i], 0) - x[i] * t[i] + log1pf(expf(-abs(x[i]))))
        }
        y[0] = Float(s / Double(max(shape.columns, 1)) / Double(divisor))
        return out
    }
}
