/// A tensor of a model that requires a gradient: a view (offset, shape) into its model's flat
/// parameter buffer, with its gradient at the same offset of the flat gradient buffer.
///
/// Before a layer joins a model it owns a small buffer of its own; `ParameterStore` moves it into
/// the flat buffers (PyTorch DDP's gradient-as-bucket-view, applied to the values too).
public final class Parameter: @unchecked Sendable {
    /// The name within its layer ("weight", "bias").
    public let localName: String
    /// The name within its model ("0.weight", "fc1.bias") once a model's store holds it; the
    /// local name before.
    public internal(set) var name: String
    /// The tensor's shape ([out, in] for a Linear weight, [out] for its bias).
    public let shape: Shape
    // Set once, when a store takes the parameter; read by every forward pass (no dynamic
    // exclusivity checks: two per parameter and step showed in a tiny model's step).
    /// Where the values are.
    @exclusivity(unchecked) public private(set) var value: UnsafeMutablePointer<Float>
    /// Where the gradient accumulates.
    @exclusivity(unchecked) public private(set) var grad: UnsafeMutablePointer<Float>
    /// Offset of this parameter in its store's flat buffers.
    public private(set) var offset: Int
    private var owner: AnyObject
    /// Set by `ParameterStore.markGradientsStale()`: the gradient holds old values that the next
    /// backward overwrites instead of adding to.
    /// Read and written by the one thread that runs the parameter's replica (no dynamic
    /// exclusivity check: one per gradient showed in a tiny model's step).
    @exclusivity(unchecked) var gradientStale = false

    /// Number of scalars, `shape.count`.
    public var count: Int { shape.count }

    /// A standalone parameter of zeros; a model moves it into its flat store.
    public init(name: String, shape: Shape) {
        localName = name
        self.name = name
        self.shape = shape
        let own = (AlignedBuffer(count: shape.count), AlignedBuffer(count: shape.count))
        value = own.0.base
        grad = own.1.base
        offset = 0
        owner = [own.0, own.1] as AnyObject
    }

    func rebind(to store: ParameterStore, offset: Int, copyingValues: Bool = true) {
        if copyingValues { Kernels.copy(value, store.values.base + offset, count) }
        Kernels.copy(grad, store.gradients.base + offset, count)
        value = store.values.base + offset
        grad = store.gradients.base + offset
        self.offset = offset
        owner = store.values
    }

    /// A copy of the values.
    public var tensor: Tensor { Tensor(Array(UnsafeBufferPointer(start: value, count: count)), shape: shape) }

    /// A copy of the gradient.
    public var gradient: Tensor { Tensor(Array(UnsafeBufferPointer(start: grad, count: count)), shape: shape) }

    /// Fills the values from U(−bound, bound), in order (PyTorch's default for Linear and
    /// convolution weights and biases, bound 1/√fan_in).
    public func fillUniform(bound: Float, using generator: inout RandomGenerator) {
        for i in 0..<count { value[i] = generator.nextUniform(-bound, bound) }
    }

    /// Overwrites the values with `tensor`'s (same element count).
    public func assign(_ tensor: Tensor) {
        precondition(tensor.count == count, "assigning \(tensor.shape) to parameter \(name) of shape \(shape)")
        tensor.withUnsafeBufferPointer { Kernels.copy($0.baseAddress!, value, count) }
    }
}

/// The flat, 64-byte aligned value and gradient buffers of one model replica. Every parameter is
/// a view into them, so the engine can reduce, step and copy a whole model as one Float array.
public final class ParameterStore: @unchecked Sendable {
    /// The flat values: each parameter at its `offset`, padded to a multiple of 16 Floats;
    /// another replica's buffer when made with `sharedValues`.
    public let values: AlignedBuffer
    /// The flat gradients, in the layout of `values`; always this store's own.
    public let gradients: AlignedBuffer
    /// The parameters viewing these buffers, in layout order.
    public let parameters: [Parameter]

    /// Moves `parameters` into one pair of flat buffers, in order, each at a 16-Float boundary.
    /// Allocate on the thread that will use the replica (first touch), or name its NUMA node.
    ///
    /// With `sharedValues`, the parameters view that buffer instead (another replica's values,
    /// which must have this layout and already hold the same values); the gradients stay this
    /// store's own. Oversubscribed workers of one NUMA node share their values this way.
    public init(binding parameters: [Parameter], numaNode: Int? = nil, sharedValues: AlignedBuffer? = nil) {
        var offsets: [Int] = []
        var total = 0
        for p in parameters {
            offsets.append(total)
            total += (p.count + 15) & ~15
        }
        precondition(sharedValues == nil || sharedValues!.count == total, "shared values of another layout")
        values = sharedValues ?? AlignedBuffer(count: total, numaNode: numaNode)
        gradients = AlignedBuffer(count: total, numaNode: numaNode)
        self.parameters = parameters
        for (p, o) in zip(parameters, offsets) { p.rebind(to: self, offset: o, copyingValues: sharedValues == nil) }
    }

    /// Length of the flat buffers (parameters plus alignment padding).
    public var count: Int { values.count }

    /// Sets every gradient to zero.
    public func zeroGrad() {
        gradients.base.update(repeating: 0, count: gradients.count)
        for p in parameters { p.gradientStale = false }
    }

    /// Zeroing without the memory traffic (PyTorch's `zero_grad(set_to_none=True)`): the next
    /// backward writes each parameter's first gradient contribution instead of adding it. Call
    /// `zeroStaleGradients()` after that backward, for parameters it did not reach.
    public func markGradientsStale() {
        for p in parameters { p.gradientStale = true }
    }

    /// Zeroes the gradients that no backward wrote since `markGradientsStale()`.
    public func zeroStaleGradients() {
        for p in parameters where p.gradientStale {
            p.grad.update(repeating: 0, count: p.count)
            p.gradientStale = false
        }
    }
}
