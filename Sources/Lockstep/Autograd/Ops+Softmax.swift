#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension Variable {
    /// e^x ÷ Σ e^x along `axis` (PyTorch's `softmax(dim=axis)`; negative axes count from the end),
    /// computed stably: every slice along the axis sums to 1.
    ///
    /// ```swift
    /// let weights = scores.softmax(axis: -1)      // [N, H, T, T]: each row of scores a distribution
    /// ```
    public func softmax(axis: Int = -1) -> Variable { normalized(.softmax, axis: axis, "softmax") }

    /// log(softmax(x)) along `axis`, as one stable op: x − max − log Σ e^(x − max) (PyTorch's
    /// `log_softmax(dim=axis)`).
    public func logSoftmax(axis: Int = -1) -> Variable { normalized(.logSoftmax, axis: axis, "logSoftmax") }

    private func normalized(_ op: Op, axis: Int, _ name: String) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let a = axis < 0 ? axis + shape.rank : axis
        guard shape.rank >= 1, (0..<shape.rank).contains(a) else {
            return tape.fail("\(name): axis \(axis) outside a value of shape \(shape)")
        }
        let (out, y) = tape.record(op, self, shape: shape, flag: Int32(a), zeroed: false)
        let (outer, n, inner) = shape.around(axis: a)
        let x = tape.data(id)
        if inner == 1 {
            Kernels.logSoftmaxRows(x, y, rows: outer, columns: n)
            if op == .softmax { for i in 0..<shape.count { y[i] = expf(y[i]) } }
            return out
        }
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var m = -Float.infinity
                for k in 0..<n { m = max(m, x[base + k * inner]) }
                var s: Float = 0
                for k in 0..<n { s += expf(x[base + k * inner] - m) }
                let lse = m + logf(s)
                for k in 0..<n {
                    let v = x[base + k * inner] - lse
                    y[base + k * inner] = op == .softmax ? expf(v) : v
                }
            }
        }
        return out
    }
}

extension Shape {
    /// The elements before `axis`, along it, and after it: a value seen as [outer, n, inner].
    func around(axis: Int) -> (outer: Int, n: Int, inner: Int) {
        var outer = 1, inner = 1
        for i in 0..<axis { outer *= self[i] }
        for i in (axis + 1)..<rank { inner *= self[i] }
        return (outer, self[axis], inner)
    }
}

extension Tape {
    /// softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax: dx = g − e^y · Σ g (sums along the axis).
    func softmaxBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        guard let dx = gradient(n.a) else { return }
        let s = shape(n.out), y = data(n.out), (outer, length, inner) = s.around(axis: Int(n.flag))
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var total: Float = 0
                if n.op == .softmax {
                    for k in 0..<length { total += g[base + k * inner] * y[base + k * inner] }
                    for k in 0..<length { let j = base + k * inner; dx[j] += y[j] * (g[j] - total) }
                } else {
                    for k in 0..<length { total += g[base + k * inner] }
                    for k in 0..<length { let j = base + k * inner; dx[j] += g[j] - expf(y[j]) * total }
                }
            }
        }
    }
}
