extension Variable {
    /// Rows of `weight` picked by this value's integer ids (PyTorch's `F.embedding`): ids [N] or
    /// [N, T] (whole numbers in 0..<V, as Floats) → [N, D] or [N, T, D]. Its gradient adds each
    /// output row into the weight row it came from, in order — deterministic, as a scatter-add.
    public func embedding(_ weight: Variable) -> Variable {
        guard !tape.failed else { return tape.standIn() }
        let ids = shape, w = weight.shape
        guard w.rank == 2, (1...3).contains(ids.rank) else {
            return tape.fail("embedding needs ids of rank 1 to 3 and a weight [vocabulary, dim], got \(ids) and \(w)")
        }
        let vocabulary = w[0], dim = w[1], count = ids.count
        let x = tape.data(id)
        if let bad = (0..<count).first(where: { !(x[$0] >= 0 && x[$0] < Float(vocabulary) && x[$0] == x[$0].rounded()) }) {
            return tape.fail("embedding: id \(x[bad]) outside 0..<\(vocabulary)")
        }
        let (out, y) = tape.record(.embedding, self, weight, shape: ids.appending(dim), zeroed: false)
        let table = tape.data(weight.id)
        for i in 0..<count { Kernels.copy(table + Int(x[i]) * dim, y + i * dim, dim) }
        return out
    }
}

extension Tape {
    /// Backward of `embedding`: each output row's gradient added into its id's weight row.
    func embeddingBackward(_ n: Node, _ g: UnsafeMutablePointer<Float>) {
        guard let dw = gradient(n.b) else { return }
        let ids = data(n.a), count = shape(n.a).count, dim = shape(n.b)[1]
        for i in 0..<count { Kernels.axpy(1, g + i * dim, dw + Int(ids[i]) * dim, dim) }
    }
}
