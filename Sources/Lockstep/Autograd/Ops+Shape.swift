extension Variable {
    /// The same elements, in the same (row-major) order, under `newShape` (PyTorch's `reshape`
    /// of a contiguous tensor).
    public func reshaped(_ newShape: Shape) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard newShape.count == shape.count else { return tape.fail("cannot reshape \(shape) to \(newShape)") }
        let (out, y) = tape.record(.reshape, self, shape: newShape, zeroed: false)
        Kernels.copy(tape.data(id), y, newShape.count)
        return out
    }

    /// Every sample flattened to one row: [N, …] → [N, product of the rest] (PyTorch's
    /// `nn.Flatten()`, C, H, W order).
    public func flattened() -> Variable {
        guard !tape.failed else { return tape.standIn() }
        guard shape.rank >= 1 else { return tape.fail("flatten needs a batch dimension, got a scalar") }
        return reshaped(Shape(shape[0], shape.rank == 1 ? 1 : shape.columns))
    }

    /// This value and `other` side by side along `axis` (PyTorch's `torch.cat([a, b], dim=axis)`):
    /// every other dimension must agree. Two branches of a network join this way.
    ///
    /// Shape: [N, A, …] and [N, B, …] along axis 1 → [N, A + B, …].
    ///
    /// ```swift
    /// let joined = left.concatenated(with: right, axis: 1)   // channels of both branches
    /// ```
    public func concatenated(with other: Variable, axis: Int) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let a = shape, b = other.shape
        guard a.rank == b.rank, (0..<a.rank).contains(axis),
              (0..<a.rank).allSatisfy({ $0 == axis || a[$0] == b[$0] }) else {
            return tape.fail("cannot concatenate \(a) and \(b) along axis \(axis)")
        }
        let (out, y) = tape.record(.concatenate, self, other, shape: a.with(dimension: axis, a[axis] + b[axis]), flag: Int32(axis), zeroed: false)
        let (outer, aBlock, bBlock) = Self.blocks(a, b, axis)
        let x = tape.data(id), z = tape.data(other.id)
        for o in 0..<outer {
            Kernels.copy(x + o * aBlock, y + o * (aBlock + bBlock), aBlock)
            Kernels.copy(z + o * bBlock, y + o * (aBlock + bBlock) + aBlock, bBlock)
        }
        return out
    }

    /// Several values side by side along `axis` (PyTorch's `torch.cat(parts, dim=axis)`).
    public static func concatenate(_ parts: [Variable], axis: Int) -> Variable {
        precondition(!parts.isEmpty, "concatenate needs at least one part")
        return parts.dropFirst().reduce(parts[0]) { $0.concatenated(with: $1, axis: axis) }
    }

    /// For a concatenation along `axis`: how many blocks (the product of the dimensions before
    /// it) and each operand's block length (its dimensions from `axis` on).
    static func blocks(_ a: Shape, _ b: Shape, _ axis: Int) -> (outer: Int, a: Int, b: Int) {
        let outer = (0..<axis).reduce(1) { $0 * a[$1] }
        let inner = ((axis + 1)..<max(a.rank, axis + 1)).reduce(1) { $0 * a[$1] }
        return (outer, a[axis] * inner, b[axis] * inner)
    }

    /// The dimensions reordered (PyTorch's `permute`): dimension i of the result is dimension
    /// `order[i]` of this value, its elements copied into that layout.
    ///
    /// Shape: [N, C, L] permuted by [0, 2, 1] → [N, L, C].
    public func permuted(_ order: [Int]) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let s = shape
        var seen = 0, code: Int32 = 0, permutedShape = s   // order[i] in bits 2i, 2i + 1 of the code
        for (i, d) in order.enumerated() where (0..<s.rank).contains(d) && i < s.rank {
            seen |= 1 << d
            code |= Int32(d) << (2 * Int32(i))
            permutedShape = permutedShape.with(dimension: i, s[d])
        }
        guard order.count == s.rank, seen == (1 << s.rank) - 1 else {
            return tape.fail("permute of \(s) needs an order of 0..<\(s.rank), got \(order)")
        }
        let (out, y) = tape.record(.permute, self, shape: permutedShape, flag: code, zeroed: false)
        Permutation(shape: s, code: code).apply(tape.data(id), y, inverse: false, accumulate: false)
        return out
    }
}

/// A permutation of up to four dimensions, as `permuted` encodes it in a node's flag (no
/// arrays: a step's permutations allocate nothing).
struct Permutation {
    let shape: Shape
    let code: Int32

    /// Copies `x` (laid out as `shape`) into `y` permuted; `inverse` copies a permuted `x` back
    /// into `shape`'s layout, adding when `accumulate`.
    func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, inverse: Bool, accumulate: Bool) {
        let rank = shape.rank
        // Strides of the source layout, read in the permuted order: element (i0, i1, …) of the
        // result is source[Σ i_k · stride[order[k]]]; missing dimensions have size 1.
        var strides = SIMD4<Int>(repeating: 0), dims = SIMD4<Int>(repeating: 1), steps = SIMD4<Int>(repeating: 0)
        var running = 1
        for d in stride(from: rank - 1, through: 0, by: -1) {
            strides[d] = running
            running *= shape[d]
        }
        for k in 0..<rank {
            let d = Int(code >> (2 * Int32(k))) & 3
            dims[k] = shape[d]
            steps[k] = strides[d]
        }
        var permutedIndex = 0
        for i0 in 0..<dims[0] {
            for i1 in 0..<dims[1] {
                for i2 in 0..<dims[2] {
                    let base = i0 * steps[0] + i1 * steps[1] + i2 * steps[2]
                    for i3 in 0..<dims[3] {
                        let sourceIndex = base + i3 * steps[3]
                        if inverse {
                            if accumulate { y[sourceIndex] += x[permutedIndex] } else { y[sourceIndex] = x[permutedIndex] }
                        } else {
                            y[permutedIndex] = x[sourceIndex]
                        }
                        permutedIndex += 1
                    }
                }
            }
        }
    }
}

extension Tape {
    /// Backward of the shape ops: a reshape passes the gradient through, a concatenation splits
    /// it between its operands, a permutation moves it back to the operand's layout.
    func shapeBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        switch n.op {
        case .reshape:
            if let da = gradient(n.a) { Kernels.axpy(1, g, da, shape(n.out).count) }
        case .concatenate:
            let (outer, aBlock, bBlock) = Variable.blocks(shape(n.a), shape(n.b), Int(n.flag))
            let da = gradient(n.a), db = gradient(n.b)
            for o in 0..<outer {
                if let da { Kernels.axpy(1, g + o * (aBlock + bBlock), da + o * aBlock, aBlock) }
                if let db { Kernels.axpy(1, g + o * (aBlock + bBlock) + aBlock, db + o * bBlock, bBlock) }
            }
        case .permute:
            if let da = gradient(n.a) { Permutation(shape: shape(n.a), code: n.flag).apply(g, da, inverse: true, accumulate: true) }
        default:
            preconditionFailure("not a shape op: \(n.op)")
        }
    }
}
