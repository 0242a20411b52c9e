/// A value on a ``Tape``: the result of an op, an input, or a parameter leaf.
///
/// Variables are small handles (the tape and a slot); their memory belongs to the tape's arena
/// and is valid until `tape.reset()`. Read them with `scalars`, `item` or `tensor()`.
public struct Variable {
    /// The tape that recorded this value and owns its memory.
    public let tape: Tape
    @usableFromInline let id: Int32

    @usableFromInline init(tape: Tape, id: Int32) {
        self.tape = tape
        self.id = id
    }

    /// The value's shape ([batch, features] for a layer's input or output).
    public var shape: Shape { tape.shape(id) }

    /// Whether backward computes a gradient for this value.
    public var requiresGrad: Bool { tape.values[Int(id)].requiresGrad }

    /// The value's memory (valid until the tape is reset).
    public var data: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: tape.data(id), count: shape.count)
    }

    /// The gradient after `backward`, or nil when none was computed.
    public var grad: Tensor? {
        guard let g = tape.values[Int(id)].grad else { return nil }
        return Tensor(Array(UnsafeBufferPointer(start: g, count: shape.count)), shape: shape)
    }

    /// A copy of the values, row-major.
    public var scalars: [Float] { Array(data) }

    /// The value of a one-element variable, such as a loss.
    public var item: Float {
        precondition(shape.count == 1, "item needs exactly one element, shape is \(shape)")
        return tape.data(id)[0]
    }

    /// A copy of the value as an owned tensor.
    public func tensor() -> Tensor { Tensor(scalars, shape: shape) }

    /// Back-propagates from this scalar through the tape (PyTorch's `loss.backward()`).
    public func backward() { tape.backward(from: self) }
}
