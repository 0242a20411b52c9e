/// The record of one forward pass, owned by one worker: values in its arena, operations as
/// values, and `backward` walking them in reverse.
///
/// There is no global or thread-local graph: every op takes its tape from its operands. A tape in
/// `.inference` mode records nothing and turns dropout off (PyTorch's `no_grad` + `eval()`).
///
/// ```swift
/// let tape = Tape()
/// let x = tape.input(Tensor([[1, 2]]))
/// let w = tape.parameter(weight)             // a leaf that requires a gradient
/// let loss = x.matmul(w, transposeB: true).sum()
/// loss.backward()                            // weight.grad now holds ∂loss/∂weight
/// tape.reset()                               // ready for the next step, memory kept
/// ```
public final class Tape {
    /// Whether the tape records operations for `backward` (`.training`) or only computes values
    /// (`.inference`: nothing recorded, dropout off).
    public enum Mode: Sendable { case training, inference }

    /// Training records operations for backward; inference records nothing.
    @exclusivity(unchecked) public var mode: Mode
    /// Where this tape's values live.
    public let arena: Arena
    // The tape is one worker's, never shared between threads: its hot storage skips Swift's
    // dynamic exclusivity checks (swift_beginAccess and its thread-local access set were a fifth
    // of an 8-worker linreg step in perf).
    @exclusivity(unchecked) @usableFromInline var values: TapeBuffer<ValueRecord>
    @exclusivity(unchecked) @usableFromInline var nodes: TapeBuffer<Node>
    /// The windows of convolutions and poolings recorded this step (a node's `flag` indexes it).
    @exclusivity(unchecked) var windows = TapeBuffer<Window2D>(capacity: 16)

    /// Randomness key for dropout: masks depend on (seed, step, global row, dropout call), never
    /// on which worker computes them.
    @exclusivity(unchecked) public var seed: UInt64 = 0
    /// The optimizer step this forward pass belongs to.
    @exclusivity(unchecked) public var step: Int = 0
    /// The global batch position of this tape's first row (a worker's shard offset).
    @exclusivity(unchecked) public var rowOffset: Int = 0
    @exclusivity(unchecked) var dropoutCalls: UInt64 = 0
    /// Sums a few Doubles over every replica of this step, in place and in the fixed tree order
    /// (batch norm's global statistics, SyncBatchNorm's all-reduce); set by the data-parallel
    /// engine, whose communicator it calls. Nil: this tape's rows are the whole batch.
    @exclusivity(unchecked) public var replicaSum: ((UnsafeMutableBufferPointer<Double>) throws -> Void)?
    /// The error a `replicaSum` threw during this pass (another worker failed): the pass then
    /// goes on with stand-ins and the engine reports this error instead of a result.
    @exclusivity(unchecked) public private(set) var collectiveError: (any Error)?
    /// Room for the Doubles an op sums over replicas; grown, never shrunk.
    @exclusivity(unchecked) private var doubles = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)
    /// The first operation of this pass whose operands did not fit it ("linear: input [2, 5]
    /// does not match weight [3, 4]"), or nil. From then on every op returns a stand-in scalar
    /// instead of computing, so a model's forward runs to its end without trapping, and the
    /// engine reports this instead of training (check it before `backward`).
    @exclusivity(unchecked) public private(set) var failure: String?

    /// An empty tape in `mode`, its values in `arena`; `capacity` reserves room for that many
    /// values and operations.
    public init(mode: Mode = .training, arena: Arena = Arena(), capacity: Int = 256) {
        self.mode = mode
        self.arena = arena
        values = TapeBuffer(capacity: capacity)
        nodes = TapeBuffer(capacity: capacity)
    }

    /// Forgets every value and operation and frees the arena; capacity is kept.
    public func reset() {
        values.removeAll()
        nodes.removeAll()
        windows.removeAll()
        arena.reset()
        dropoutCalls = 0
        if failure != nil { failure = nil }   // (storing nil released the old value at every step)
        if collectiveError != nil { collectiveError = nil }
    }

    deinit {
        doubles.deallocate()
        values.deallocate()
        nodes.deallocate()
        windows.deallocate()
    }

    /// `count` zeroed Doubles of scratch, valid until the next call (one op at a time uses it).
    func scratchDoubles(_ count: Int) -> UnsafeMutableBufferPointer<Double> {
        if doubles.count < count {
            doubles.deallocate()
            doubles = .allocate(capacity: max(count, 2 * doubles.count))
        }
        let part = UnsafeMutableBufferPointer(rebasing: doubles[0..<count])
        part.update(repeating: 0)
        return part
    }

    /// Sums `values` over the replicas through `replicaSum` (as is without one). Returns false
    /// when the collective failed: the pass is then failed, with the error kept.
    func sumOverReplicas(_ values: UnsafeMutableBufferPointer<Double>) -> Bool {
        guard let replicaSum else { return true }
        do {
            try replicaSum(values)
            return true
        } catch {
            if collectiveError == nil { collectiveError = error }
            if failure == nil { failure = "\(error)" }
            return false
        }
    }

    /// Whether an op of this pass has failed (see `failure`).
    @inlinable public var failed: Bool { failure != nil }

    /// Records `message` as this pass's failure (the first one stays) and returns the stand-in
    /// every later op returns: a constant scalar 0.
    public func fail(_ message: String) -> Variable {
        if failure == nil { failure = message }
        return standIn()
    }

    /// The result of an op on a failed tape: a constant scalar 0, recorded nowhere.
    public func standIn() -> Variable {
        let p = arena.allocate(1)
        return Variable(tape: self, id: append(ValueRecord(data: p, grad: nil, shape: .scalar, requiresGrad: false, parameter: nil)))
    }

    /// Operations recorded so far.
    public var operationCount: Int { nodes.count }

    /// The gradient of an operand that an op is about to write whole: `overwrite` tells that its
    /// old values are stale (see `ParameterStore.markGradientsStale`), so the op may store its
    /// contribution instead of adding it (a GEMM with β = 0, no zeroing pass).
    @usableFromInline func gradientForWriting(_ id: Int32) -> (pointer: UnsafeMutablePointer<Float>, overwrite: Bool)? {
        guard id >= 0, values[Int(id)].requiresGrad else { return nil }
        if let p = values[Int(id)].parameter, let g = values[Int(id)].grad, Self.takeStale(p) { return (g, true) }
        return gradient(id).map { ($0, false) }
    }

    /// A constant input (no gradient), copied into the arena.
    public func input(_ tensor: Tensor) -> Variable {
        input(tensor.shape) { dst in
            tensor.withUnsafeBufferPointer { src in
                if let s = src.baseAddress { Kernels.copy(s, dst.baseAddress!, src.count) }
            }
        }
    }

    /// A constant input of `shape` whose arena memory `fill` writes (used to gather batch rows
    /// without an intermediate copy).
    public func input(_ shape: Shape, fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> Variable {
        let p = arena.allocate(shape.count, zeroed: false)
        fill(UnsafeMutableBufferPointer(start: p, count: shape.count))
        return Variable(tape: self, id: append(ValueRecord(data: p, grad: nil, shape: shape, requiresGrad: false, parameter: nil)))
    }

    /// A leaf that requires a gradient, viewing the parameter's value and gradient memory:
    /// backward accumulates into `parameter.grad`.
    public func parameter(_ parameter: Parameter) -> Variable {
        Variable(tape: self, id: parameterID(parameter))
    }

    /// `parameter(_:)`'s leaf, as its slot: for ops that take a layer's parameters straight
    /// (`Linear`), with no variable made and dropped for each.
    func parameterID(_ parameter: Parameter) -> Int32 {
        append(ValueRecord(data: parameter.value, grad: parameter.grad, shape: parameter.shape,
                           requiresGrad: mode == .training, parameter: Unmanaged.passUnretained(parameter)))
    }

    /// A leaf over caller-owned memory; `grad` nil makes it a constant.
    public func leaf(data: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>?, shape: Shape) -> Variable {
        let requires = grad != nil && mode == .training
        return Variable(tape: self, id: append(ValueRecord(data: data, grad: grad, shape: shape, requiresGrad: requires, parameter: nil)))
    }

    // Inlined: called out of line, the record went through memory written in small pieces and
    // read back in 16-byte loads, which stalled store forwarding (5 % of a tiny model's step, perf).
    @inline(__always) @usableFromInline func append(_ record: ValueRecord) -> Int32 {
        values.append(record)
        return Int32(values.count - 1)
    }

    /// Allocates the result of an op and records the op when training needs it.
    /// Returns the result variable and its data: zeroed, unless the op writes every element
    /// itself and says `zeroed: false`.
    @usableFromInline func record(
        _ op: Op, _ a: Variable, _ b: Variable? = nil, _ c: Variable? = nil, shape: Shape,
        flag: Int32 = 0, scalar: Float = 0, extra: Float = 0, saved: UnsafeMutablePointer<Float>? = nil, zeroed: Bool = true
    ) -> (Variable, UnsafeMutablePointer<Float>) {
        precondition(a.tape === self && (b?.tape ?? self) === self && (c?.tape ?? self) === self,
                     "operands of one op must be on the same tape")
        let (out, data) = record(op, a.id, b?.id ?? -1, c?.id ?? -1, shape: shape, flag: flag, scalar: scalar, extra: extra,
                                 saved: saved, zeroed: zeroed)
        return (Variable(tape: self, id: out), data)
    }

    /// `record` by the operands' slots on this tape (-1: none).
    @usableFromInline func record(
        _ op: Op, _ a: Int32, _ b: Int32, _ c: Int32, shape: Shape,
        flag: Int32 = 0, scalar: Float = 0, extra: Float = 0, saved: UnsafeMutablePointer<Float>? = nil, zeroed: Bool = true
    ) -> (Int32, UnsafeMutablePointer<Float>) {
        let requires = mode == .training
            && (values[Int(a)].requiresGrad || (b >= 0 && values[Int(b)].requiresGrad) || (c >= 0 && values[Int(c)].requiresGrad))
        let data = arena.allocate(shape.count, zeroed: zeroed)
        let out = append(ValueRecord(data: data, grad: nil, shape: shape, requiresGrad: requires, parameter: nil))
        if requires {
            nodes.append(Node(op: op, a: a, b: b, c: c, out: out, flag: flag, scalar: scalar, extra: extra, saved: saved))
        }
        return (out, data)
    }

    @usableFromInline func data(_ id: Int32) -> UnsafeMutablePointer<Float> { values[Int(id)].data }
    @usableFromInline func shape(_ id: Int32) -> Shape { values[Int(id)].shape }

    /// Whether the parameter's gradient was stale, clearing the mark. The model outlives the tape's
    /// step, so the parameter is borrowed, not retained: a retain and release per gradient were
    /// the largest item of a tiny model's step in perf.
    @usableFromInline static func takeStale(_ parameter: Unmanaged<Parameter>) -> Bool {
        parameter._withUnsafeGuaranteedRef { p in
            guard p.gradientStale else { return false }
            p.gradientStale = false
            return true
        }
    }

    /// The gradient buffer of a value that requires one (allocated zeroed on first use), or nil.
    @usableFromInline func gradient(_ id: Int32) -> UnsafeMutablePointer<Float>? {
        guard id >= 0, values[Int(id)].requiresGrad else { return nil }
        if let g = values[Int(id)].grad {
            if let p = values[Int(id)].parameter, Self.takeStale(p) {
                g.update(repeating: 0, count: values[Int(id)].shape.count)
            }
            return g
        }
        let g = arena.allocate(values[Int(id)].shape.count)
        values[Int(id)].grad = g
        return g
    }
}
