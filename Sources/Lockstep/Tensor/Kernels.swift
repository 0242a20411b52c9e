import CVector
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Elementwise and reduction loops on raw Float pointers: the inner loops that `Tensor` and the
/// autograd tape share. Written as plain counted loops that the compiler vectorizes; `rows` ×
/// `columns` arguments describe row-major matrices.
public enum Kernels {
    /// How many rows ahead a gather of rows in random order asks for the rows it will copy (each
    /// misses the cache; the misses then overlap).
    static let prefetchDistance = 8

    /// Sets x[0..<n] to `value`.
    @inlinable public static func fill(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ value: Float) {
        x.update(repeating: value, count: n)
    }

    /// Copies n Floats from `src` to `dst`; the ranges may overlap (as memmove).
    ///
    /// Rows of a few features are copied by the row (a batch's gather, a split's), where a call
    /// to memmove per row cost more than the copy (7 % of a linreg run in perf): up to 16 Floats
    /// go through two overlapping 8-lane loads and stores, or four-lane ones, without a call.
    @inlinable public static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        switch n {
        case 8...16:
            let head = s.loadUnaligned(as: SIMD8<Float>.self), tail = s.loadUnaligned(fromByteOffset: 4 * (n - 8), as: SIMD8<Float>.self)
            d.storeBytes(of: head, as: SIMD8<Float>.self)
            d.storeBytes(of: tail, toByteOffset: 4 * (n - 8), as: SIMD8<Float>.self)
        case 4..<8:
            let head = s.loadUnaligned(as: SIMD4<Float>.self), tail = s.loadUnaligned(fromByteOffset: 4 * (n - 4), as: SIMD4<Float>.self)
            d.storeBytes(of: head, as: SIMD4<Float>.self)
            d.storeBytes(of: tail, toByteOffset: 4 * (n - 4), as: SIMD4<Float>.self)
        case 1..<4:
            // Every load before any store, as memmove: the ranges may overlap.
            let a = src[0], b = src[n > 1 ? 1 : 0], c = src[n - 1]
            dst[0] = a
            dst[n > 1 ? 1 : 0] = b
            dst[n - 1] = c
        default:
            dst.update(from: src, count: n)
        }
    }

    /// out = a + b, where b has the shape of a (`bColumns == columns`, `bRows == rows`), is a row
    /// vector broadcast over rows (`bRows == 1`), or a scalar (`bRows == 1, bColumns == 1`).
    @inlinable public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, broadcast: Broadcast, sign: Float = 1
    ) {
        switch broadcast {
        case .none:
            for i in 0..<(rows * columns) { out[i] = a[i] + sign * b[i] }
        case .row:
            for r in 0..<rows {
                let o = r * columns
                for c in 0..<columns { out[o + c] = a[o + c] + sign * b[c] }
            }
        case .scalar:
            let s = sign * b[0]
            for i in 0..<(rows * columns) { out[i] = a[i] + s }
        }
    }

    /// out = a ⊙ b with the same broadcasting as `add`.
    @inlinable public static func mul(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, broadcast: Broadcast
    ) {
        switch broadcast {
        case .none:
            for i in 0..<(rows * columns) { out[i] = a[i] * b[i] }
        case .row:
            for r in 0..<rows {
                let o = r * columns
                for c in 0..<columns { out[o + c] = a[o + c] * b[c] }
            }
        case .scalar:
            let s = b[0]
            for i in 0..<(rows * columns) { out[i] = a[i] * s }
        }
    }

    /// The index of the first of `n` values that is NaN, infinite, or beyond `limit` in
    /// magnitude, or nil: the check of a whole data set in one vectorized pass.
    ///
    /// ```swift
    /// let bad = x.withUnsafeBufferPointer { Kernels.firstIndex(beyond: 1e18, in: $0) }
    /// ```
    public static func firstIndex(beyond limit: Float = .greatestFiniteMagnitude, in x: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = x.baseAddress, x.count > 0 else { return nil }
        let i = lockstep_first_beyond(base, x.count, limit)
        return i < 0 ? nil : i
    }

    /// y += alpha · x.
    @inlinable public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * x[i] }
    }

    /// acc[c] += Σ_r x[r, c]: the gradient of a broadcast row vector.
    @inlinable public static func accumulateColumnSums(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int, into acc: UnsafeMutablePointer<Float>, scale: Float = 1
    ) {
        if columns == 1 {   // one output's bias: the same sums, in a register instead of through memory
            var s = acc[0]
            for r in 0..<rows { s += scale * x[r] }
            acc[0] = s
            return
        }
        for r in 0..<rows {
            let o = r * columns
            for c in 0..<columns { acc[c] += scale * x[o + c] }
        }
    }

    /// Σ x, accumulated in Double so that long sums stay accurate.
    @inlinable public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var s: Double = 0
        for i in 0..<n { s += Double(x[i]) }
        return s
    }

    /// Σ x², in Double.
    @inlinable public static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var s: Double = 0
        for i in 0..<n { let v = Double(x[i]); s += v * v }
        return s
    }

    /// y = max(x, 0), elementwise over n Floats.
    @inlinable public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = max(x[i], 0) }
    }

    /// dx += g where y > 0: ReLU's backward. Written with SIMD vectors: the plain loop stays
    /// scalar (its pointers may alias), and it was a tenth of an mlp-mnist step (perf, 1 worker).
    @inlinable public static func reluBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                               _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            let dv = UnsafeRawPointer(dx + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: dv + gv.replacing(with: 0, where: yv .<= 0), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            if y[i] > 0 { dx[i] += g[i] }
            i += 1
        }
    }

    /// y = tanh(x), elementwise over n Floats.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = tanhf(x[i]) }
    }

    /// y = 1 / (1 + e⁻ˣ), elementwise over n Floats, without overflow (see `stableSigmoid`).
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = stableSigmoid(x[i]) }
    }

    /// 1 / (1 + e⁻ˣ), computed as eˣ / (1 + eˣ) for negative x so that no exponential overflows.
    @inline(__always) public static func stableSigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }

    /// GELU, exact form x·Φ(x) as PyTorch's `nn.GELU()` default; Φ(x) also into `cdf` when
    /// given (backward needs it: one erf per element instead of two).
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                            cdf: UnsafeMutablePointer<Float>? = nil) {
        guard let cdf else {
            for i in 0..<n { y[i] = x[i] * 0.5 * (1 + erff(x[i] * 0.707_106_77)) }
            return
        }
        // x · 0.5 · (1 + erf) rounds as x · (0.5 · (1 + erf)): halving is exact.
        for i in 0..<n {
            let phi: Float = 0.5 * (1 + erff(x[i] * 0.707_106_77))
            cdf[i] = phi
            y[i] = x[i] * phi
        }
    }

    /// d/dx of GELU: Φ(x) + x·φ(x).
    @inline(__always) public static func geluDerivative(_ x: Float) -> Float {
        geluDerivative(x, cdf: 0.5 * (1 + erff(x * 0.707_106_77)))
    }

    /// d/dx of GELU given Φ(x) (`gelu`'s `cdf`).
    @inline(__always) public static func geluDerivative(_ x: Float, cdf: Float) -> Float {
        let pdf = expf(-0.5 * x * x) * 0.398_942_28
        return cdf + x * pdf
    }

    /// Row-wise log-softmax, stable: y = x − max − log Σ exp(x − max).
    public static func logSoftmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        for r in 0..<rows {
            let row = x + r * columns, out = y + r * columns
            var m = -Float.infinity
            for c in 0..<columns { m = max(m, row[c]) }
            var s: Float = 0
            for c in 0..<columns { s += expf(row[c] - m) }
            let lse = m + logf(s)
            for c in 0..<columns { out[c] = row[c] - lse }
        }
    }

    /// Index of the largest element of each row (first on ties).
    public static func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Int>) {
        for r in 0..<rows {
            let row = x + r * columns
            var best = 0
            for c in 1..<max(columns, 1) where row[c] > row[best] { best = c }
            out[r] = best
        }
    }
}

/// How the second operand of a binary elementwise op is laid over the first.
public enum Broadcast: UInt8, Sendable {
    /// Same shape.
    case none
    /// A block repeated over the leading dimensions: b's shape (leading 1s aside) is a's
    /// trailing dimensions — a bias [D] over [N, D] or [N, T, D], positions [T, D] over [N, T, D].
    case row
    /// One value for every element.
    case scalar

    /// How `b` broadcasts over `a`, or nil when it cannot.
    public static func of(_ b: Shape, over a: Shape) -> Broadcast? {
        if b == a { return Broadcast.none }
        if b.count == 1 { return .scalar }
        var first = 0   // b's leading 1s do not count
        while first < b.rank - 1 && b[first] == 1 { first += 1 }
        let kept = b.rank - first
        guard kept <= a.rank else { return nil }
        for i in 0..<kept where b[first + i] != a[a.rank - kept + i] { return nil }
        return .row
    }

    /// The [rows, columns] view the kernels take for `b` laid over an `a` of `count` elements:
    /// a `.row` block is `columns` wide, repeated `rows` times.
    @inlinable public func layout(count: Int, operand b: Int) -> (rows: Int, columns: Int) {
        self == .row && b > 0 ? (count / b, b) : (1, count)
    }
}
