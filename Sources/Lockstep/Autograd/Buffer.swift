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
    /// The smallest value the buffer may hold (a variance: 0), if any; `check` refuses less.
    public let minimum: Float?
    /// Where the values are.
    public private(set) var value: UnsafeMutablePointer<Float>
    private var owner: AlignedBuffer

    /// Number of scalars, `shape.count`.
    public var count: Int { shape.count }

    /// A buffer of `shape` filled with `initial`; an integer buffer holds whole numbers in
    /// 0…2²⁴ (exact in a Float), and `minimum` bounds the values from below.
    public init(name: String, shape: Shape, initial: Float = 0, isInteger: Bool = false, minimum: Float? = nil) {
        localName = name
        self.name = name
        self.shape = shape
        self.isInteger = isInteger
        self.minimum = isInteger ? 0 : minimum
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

    /// The largest value an integer buffer holds exactly.
    public static let integerLimit: Float = 16_777_216

    /// Throws unless `values` may be this buffer's: finite, at least `minimum`, and whole numbers
    /// in 0…2²⁴ for an integer buffer (a loaded file or checkpoint may hold anything).
    public func check(_ values: UnsafeBufferPointer<Float>) throws {
        for v in values {
            guard v.isFinite else { throw ConfigurationError("buffer '\(name)' holds \(v), not a finite number") }
            if let minimum, v < minimum { throw ConfigurationError("buffer '\(name)' holds \(v), below its minimum \(minimum)") }
            if isInteger, v != v.rounded() || v > Self.integerLimit {
                throw ConfigurationError("buffer '\(name)' holds \(v); it counts in whole numbers up to 2^24")
            }
        }
    }

    /// Overwrites the values with `tensor`'s (same element count).
    public func assign(_ tensor: Tensor) {
        precondition(tensor.count == count, "assigning \(tensor.shape) to buffer \(name) of shape \(shape)")
        tensor.withUnsafeBufferPointer { if count > 0 { Kernels.copy($0.baseAddress!, value, count) } }
    }
}
