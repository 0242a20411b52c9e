/// A dense Float32 tensor: contiguous, row-major, shape-checked, with value semantics
/// (copy-on-write over an aligned buffer).
///
/// `Tensor` holds data at rest: data sets, parameter snapshots, predictions. Inside a training
/// step, values live on a ``Tape`` as ``Variable``s in the worker's arena; both share ``Kernels``.
///
/// ```swift
/// let x = Tensor([[1, 2], [3, 4]])           // shape [2, 2]
/// let w = Tensor([0.5, -1], shape: Shape(1, 2))
/// let y = x.matmul(w, transposeB: true)      // [2, 1]: x · wᵀ
/// y.scalars                                   // [-1.5, -2.5]
/// ```
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The dimensions; the elements are row-major and contiguous.
    public private(set) var shape: Shape
    @usableFromInline var storage: AlignedBuffer

    /// A tensor of zeros.
    public init(zeros shape: Shape) {
        self.shape = shape
        storage = AlignedBuffer(count: shape.count)
    }

    /// A tensor whose elements `initialize` writes, every one (they are not zeroed first).
    init(shape: Shape, initializingWith initialize: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.shape = shape
        storage = AlignedBuffer(uninitializedCount: shape.count)
        try initialize(storage.buffer)
    }

    /// A tensor with every element equal to `value`.
    public init(repeating value: Float, shape: Shape) {
        self.init(zeros: shape)
        if value != 0 { Kernels.fill(storage.base, shape.count, value) }
    }

    /// A tensor of ones.
    public init(ones shape: Shape) { self.init(repeating: 1, shape: shape) }

    /// A tensor from row-major scalars; `scalars.count` must equal `shape.count`.
    public init(_ scalars: [Float], shape: Shape) {
        precondition(scalars.count == shape.count, "\(scalars.count) scalars do not fill shape \(shape)")
        self.init(zeros: shape)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { Kernels.copy(base, storage.base, src.count) }
        }
    }

    /// A vector.
    public init(_ scalars: [Float]) { self.init(scalars, shape: Shape(scalars.count)) }

    /// A matrix from rows that may be of unequal length (data from outside): throws, naming the
    /// first row whose length differs from the first's.
    public init(rows: [[Float]]) throws {
        let columns = rows.first?.count ?? 0
        if let bad = rows.firstIndex(where: { $0.count != columns }) {
            throw ConfigurationError("row \(bad) has \(rows[bad].count) values, row 0 has \(columns): the rows of a matrix must have equal length")
        }
        self.init(rows.flatMap { $0 }, shape: Shape(rows.count, columns))
    }

    /// A matrix from rows of equal length, for literals (`Tensor([[1, 2], [3, 4]])`); it traps on
    /// ragged rows — rows from outside go through `init(rows:)`, which throws.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "rows of a matrix must have equal length")
        self.init(rows.flatMap { $0 }, shape: Shape(rows.count, columns))
    }

    /// Uniform samples in [low, high) from `generator`.
    public static func uniform(_ shape: Shape, low: Float = 0, high: Float = 1, using generator: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        t.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = generator.nextUniform(low, high) } }
        return t
    }

    /// Normal samples with the given mean and standard deviation from `generator`.
    public static func normal(_ shape: Shape, mean: Float = 0, std: Float = 1, using generator: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        t.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = mean + std * generator.nextNormal() } }
        return t
    }

    /// Number of elements, `shape.count`.
    public var count: Int { shape.count }

    /// The elements in row-major order.
    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs exactly one element, shape is \(shape)")
        return storage.base[0]
    }

    /// Element (row, column) of a matrix.
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(shape.rank == 2 && row < shape[0] && column < shape[1], "index out of range")
            return storage.base[row * shape[1] + column]
        }
        set {
            precondition(shape.rank == 2 && row < shape[0] && column < shape[1], "index out of range")
            makeUnique()
            storage.base[row * shape[1] + column] = newValue
        }
    }

    /// Element i in row-major order.
    public subscript(flat i: Int) -> Float {
        get { precondition(i >= 0 && i < count); return storage.base[i] }
        set { precondition(i >= 0 && i < count); makeUnique(); storage.base[i] = newValue }
    }

    /// Calls `body` with the elements in row-major order (no copy).
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: shape.count))
    }

    /// Calls `body` with the elements to change in place, copying them first if the storage is shared.
    @inlinable public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: shape.count))
    }

    @usableFromInline mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = AlignedBuffer(count: shape.count)
            Kernels.copy(storage.base, copy.base, shape.count)
            storage = copy
        }
    }

    /// Keeps the first `rows` rows (of a tensor whose storage this one holds alone), leaving
    /// the storage as it is: the rows after them are no longer part of the tensor.
    mutating func keepFirstRows(_ rows: Int) {
        precondition(shape.rank >= 1 && (0...shape[0]).contains(rows))
        shape = shape.rank >= 2 ? shape.withRows(rows) : Shape(rows)
    }

    /// The same elements with another shape of equal count.
    public func reshaped(_ newShape: Shape) -> Tensor {
        precondition(newShape.count == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.withUnsafeBufferPointer { a in rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) } }
    }

    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor\(shape)(\(shown)\(count > 8 ? ", …" : ""))"
    }
}
