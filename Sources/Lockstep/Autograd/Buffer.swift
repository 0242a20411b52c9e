/// A tensor of a module's state that is not trained: PyTorch's registered buffers, such as batch
/// norm's `running_mean`, `running_var` and `num_batches_tracked`. It is saved and loaded with
/// the parameters (same state_dict names), takes no gradient, and the optimizer never sees it.
///
/// A model moves its buffers into one flat block (`Sequential.bufferValues`), as it does its
/// parameters, so a checkpoint or a snapshot copies them in one piece.
public final class Buffer: @unchecked Sendable {
    /// The name within its module ("running_mean").
    public let localName: String
    /// The name within its model ("1.running_mean", "bn1.running_var") once a model holds it.
    public internal(set) var name: String
    /// The tensor's shape.
    public let shape: Shape
    /// Whether PyTorch keeps it as an integer (`num_batches_tracked` is an int64): a model file
    /// stores it as I64 so that `load_state_dict(strict=True)` sees the dtype it expects.
    public let isInteger: Bool
    /// Where the values are.
    public private(set) var value: UnsafeMutablePointer<Float>
    private var owner: AlignedBuffer

    /// Number of scalars, `shape.count`.
    public var count: Int { shape.count }

    /// A buffer of `shape` filled with `initial`.
    public init(name: String, shape: Shape, initial: Float = 0, isInteger: Bool = false) {
        localName = name
        self.name = name
        self.shape = shape
        self.isInteger = isInteger
        owner = AlignedBuffer(count: shape.count)
        value = owner.base
        Kernels.fill(value, shape.count, initial)
    }

    /// Moves the values to `offset` of `block` (a model's flat buffer block).
    func rebind(to block: AlignedBuffer, offset: Int) {
        Kernels.copy(value, block.base + offset, count)
        value = block.base + offset
        owner = block
    }

    /// A copy of the values.
    public var tensor: Tensor { Tensor(Array(UnsafeBufferPointer(start: value, count: count)), shape: shape) }

    /// Overwrites the values with `tensor`'s (same element count).
    public func assign(_ tensor: Tensor) {
        precondition(tensor.count == count, "assigning \(tensor.shape) to buffer \(name) of shape \(shape)")
        tensor.withUnsafeBufferPointer { if count > 0 { Kernels.copy($0.baseAddress!, value, count) } }
    }
}
