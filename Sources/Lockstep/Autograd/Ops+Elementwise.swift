extension Variable {
    private func binary(_ op: Op, _ other: Variable, _ name: String) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard let broadcast = Broadcast.of(other.shape, over: shape) else {
            return tape.fail("\(name): shape \(other.shape) does not broadcast over \(shape)")
        }
        let (out, y) = tape.record(op, self, other, shape: shape, flag: Int32(broadcast.rawValue), zeroed: false)
        let a = tape.data(id), b = tape.data(other.id)
        let (rows, columns) = broadcast.layout(count: shape.count, operand: other.shape.count)
        switch op {
        case .add: Kernels.add(a, b, y, rows: rows, columns: columns, broadcast: broadcast)
        case .sub: Kernels.add(a, b, y, rows: rows, columns: columns, broadcast: broadcast, sign: -1)
        default: Kernels.mul(a, b, y, rows: rows, columns: columns, broadcast: broadcast)
        }
        return out
    }

    /// Elementwise sum; `rhs` may have the same shape, a shape of `lhs`'s trailing dimensions
    /// (repeated over the leading ones: a bias [D] over [N, T, D]), or be a scalar.
    public static func + (lhs: Variable, rhs: Variable) -> Variable { lhs.binary(.add, rhs, "+") }

    /// Elementwise difference, broadcasting as `+`.
    public static func - (lhs: Variable, rhs: Variable) -> Variable { lhs.binary(.sub, rhs, "-") }

    /// Elementwise product, broadcasting as `+`.
    public static func * (lhs: Variable, rhs: Variable) -> Variable { lhs.binary(.mul, rhs, "*") }

    /// Every element times a constant.
    public static func * (lhs: Variable, rhs: Float) -> Variable {
        let (out, y) = lhs.tape.record(.scale, lhs, shape: lhs.shape, scalar: rhs, zeroed: false)
        let a = lhs.tape.data(lhs.id)
        for i in 0..<lhs.shape.count { y[i] = a[i] * rhs }
        return out
    }
}
