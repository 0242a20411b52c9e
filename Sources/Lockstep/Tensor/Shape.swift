/// The dimensions of a tensor: rank 0 to 4, stored inline so that making one never allocates.
///
/// Lockstep's tensors are row-major and contiguous; an MLP needs rank 2 (`[rows, columns]`),
/// rank 1 for biases and class indices, and rank 0 for a loss.
///
/// ```swift
/// let s = Shape(32, 4)      // a batch of 32 rows with 4 features
/// s.count                   // 128
/// ```
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    /// Number of dimensions, 0…4.
    public let rank: Int
    private var d0: Int32 = 1, d1: Int32 = 1, d2: Int32 = 1, d3: Int32 = 1

    /// The shape of a scalar.
    public static let scalar = Shape(rank: 0)

    private init(rank: Int) { self.rank = rank }

    /// A rank-1 shape [a] (a bias, class indices).
    public init(_ a: Int) {
        precondition(a >= 0, "negative dimension")
        rank = 1; d0 = Int32(a)
    }

    /// A rank-2 shape [a, b]: a rows of b columns.
    public init(_ a: Int, _ b: Int) {
        precondition(a >= 0 && b >= 0, "negative dimension")
        rank = 2; d0 = Int32(a); d1 = Int32(b)
    }

    /// A rank-3 shape [a, b, c].
    public init(_ a: Int, _ b: Int, _ c: Int) {
        precondition(a >= 0 && b >= 0 && c >= 0, "negative dimension")
        rank = 3; d0 = Int32(a); d1 = Int32(b); d2 = Int32(c)
    }

    public init(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
        precondition(a >= 0 && b >= 0 && c >= 0 && d >= 0, "negative dimension")
        rank = 4; d0 = Int32(a); d1 = Int32(b); d2 = Int32(c); d3 = Int32(d)
    }

    /// A shape from an array of dimensions (at most 4).
    public init(_ dims: [Int]) {
        precondition(dims.count <= 4, "Lockstep tensors have at most 4 dimensions")
        precondition(dims.allSatisfy { $0 >= 0 }, "negative dimension")
        rank = dims.count
        if rank > 0 { d0 = Int32(dims[0]) }
        if rank > 1 { d1 = Int32(dims[1]) }
        if rank > 2 { d2 = Int32(dims[2]) }
        if rank > 3 { d3 = Int32(dims[3]) }
    }

    /// Dimension `i`, 0 ≤ i < rank.
    @inlinable public subscript(i: Int) -> Int {
        precondition(i >= 0 && i < rank, "dimension \(i) out of range for rank \(rank)")
        return dimension(i)
    }

    @usableFromInline func dimension(_ i: Int) -> Int {
        switch i {
        case 0: return Int(d0)
        case 1: return Int(d1)
        case 2: return Int(d2)
        default: return Int(d3)
        }
    }

    /// This shape with its first dimension set to `n`: a batch of `n` samples of the same shape.
    public func withRows(_ n: Int) -> Shape {
        precondition(rank >= 1 && n >= 0, "a batch shape needs a first dimension")
        var s = self
        s.d0 = Int32(n)
        return s
    }

    /// This shape with dimension `i` set to `n` (no allocation).
    public func with(dimension i: Int, _ n: Int) -> Shape {
        precondition(i >= 0 && i < rank && n >= 0, "dimension \(i) out of range for rank \(rank)")
        var s = self
        switch i {
        case 0: s.d0 = Int32(n)
        case 1: s.d1 = Int32(n)
        case 2: s.d2 = Int32(n)
        default: s.d3 = Int32(n)
        }
        return s
    }

    /// [n] followed by this shape's dimensions (rank at most 3): a batch of `n` of these.
    public func prepending(_ n: Int) -> Shape {
        precondition(rank <= 3 && n >= 0, "a batch of rank-\(rank) samples has more than 4 dimensions")
        switch rank {
        case 0: return Shape(n)
        case 1: return Shape(n, Int(d0))
        case 2: return Shape(n, Int(d0), Int(d1))
        default: return Shape(n, Int(d0), Int(d1), Int(d2))
        }
    }

    /// This shape's dimensions followed by `n` (rank at most 3).
    public func appending(_ n: Int) -> Shape {
        precondition(rank <= 3 && n >= 0, "a rank-\(rank) shape with one more dimension has more than 4")
        switch rank {
        case 0: return Shape(n)
        case 1: return Shape(Int(d0), n)
        case 2: return Shape(Int(d0), Int(d1), n)
        default: return Shape(Int(d0), Int(d1), Int(d2), n)
        }
    }

    /// This shape without its first dimension (a sample of a batch); a scalar stays a scalar.
    public func droppingFirst() -> Shape {
        switch rank {
        case 0, 1: return .scalar
        case 2: return Shape(Int(d1))
        case 3: return Shape(Int(d1), Int(d2))
        default: return Shape(Int(d1), Int(d2), Int(d3))
        }
    }

    /// Number of elements.
    public var count: Int { Int(d0) * Int(d1) * Int(d2) * Int(d3) }

    /// Rows of a matrix view: the first dimension for rank ≥ 2, 1 for a vector or scalar.
    public var rows: Int { rank >= 2 ? Int(d0) : 1 }

    /// Columns of a matrix view: elements per row (all trailing dimensions).
    public var columns: Int { rank >= 2 ? Int(d1) * Int(d2) * Int(d3) : count }

    /// The dimensions as an array (allocates; not for hot paths).
    public var dimensions: [Int] { (0..<rank).map(dimension) }

    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }
}
