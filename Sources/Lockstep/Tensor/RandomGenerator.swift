/// Lockstep's seeded random generator: xoshiro256** (Blackman & Vigna), seeded through
/// SplitMix64. Fast, small, and the same sequence on every platform for the same seed.
///
/// ```swift
/// var rng = RandomGenerator(seed: 42)
/// let u = rng.nextUniform()            // [0, 1)
/// let z = rng.nextNormal()             // N(0, 1)
/// let i = Int.random(in: 0..<10, using: &rng)
/// ```
public struct RandomGenerator: RandomNumberGenerator, Sendable, Hashable, Codable {
    /// The four words of xoshiro256**'s state, to save and restore with `init(state:)`.
    public private(set) var state: [UInt64] {
        get { [s0, s1, s2, s3] }
        set { (s0, s1, s2, s3) = (newValue[0], newValue[1], newValue[2], newValue[3]) }
    }
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose stream is fully determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = Self.splitMix(&sm); s1 = Self.splitMix(&sm)
        s2 = Self.splitMix(&sm); s3 = Self.splitMix(&sm)
    }

    /// Restores a generator from `state` (four words, as read from `state`).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "xoshiro256** needs 4 words, not all zero")
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    /// A generator for one key of a counter-based stream, e.g. (seed, step, row) for dropout:
    /// the same key always yields the same numbers, whatever thread asks.
    public init(seed: UInt64, _ a: UInt64, _ b: UInt64 = 0) {
        var sm = seed
        let k0 = Self.splitMix(&sm)
        var sa = k0 ^ (a &* 0x9E37_79B9_7F4A_7C15)
        let k1 = Self.splitMix(&sa)
        var sb = k1 ^ (b &* 0xC2B2_AE3D_27D4_EB4F)
        self.init(seed: Self.splitMix(&sb))
    }

    @inline(__always)
    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1), 24 bits of precision.
    @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func nextUniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextUniform()
    }

    /// Standard normal by Box–Muller (one value per call; simple and deterministic).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2.0 * _log(1.0 - u1)).squareRoot()
        return Float(r * _cos(2.0 * Double.pi * u2))
    }

    /// Fisher–Yates shuffle of `0..<n`'s permutation into `indices`.
    public mutating func shuffle(_ indices: inout [Int]) {
        indices.withUnsafeMutableBufferPointer { shuffle($0) }
    }

    /// The same shuffle in place in a buffer (of `Int` or narrower indices, which halve the
    /// memory its random swaps touch): the same draws, so the same permutation.
    public mutating func shuffle<Index: FixedWidthInteger>(_ indices: UnsafeMutableBufferPointer<Index>) {
        guard indices.count > 1 else { return }
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            let j = remainder(next(), dividedBy: i + 1)
            let t = indices[i]
            indices[i] = indices[j]
            indices[j] = t
        }
    }

    /// The swaps `shuffle` makes on `count` elements, in its order — `swap(i, j)` for i from
    /// `count - 1` down to 1 — with the same draws, so that anything swapped alike (the rows of a
    /// table) ends in `shuffle`'s permutation. The draws do not depend on what is swapped: each
    /// is made 8 swaps early and handed to `upcoming(j)`, to ask for the memory swap j will touch
    /// (the random reads' cache misses then overlap instead of following one another).
    ///
    /// ```swift
    /// rng.forEachShuffleSwap(count: rows.count) { i, j in rows.swapAt(i, j) }
    /// ```
    public mutating func forEachShuffleSwap(count: Int, upcoming: (Int) -> Void = { _ in }, _ swap: (Int, Int) -> Void) {
        guard count > 1 else { return }
        let ahead = 8   // a power of two: draws wait in ring[i & (ahead - 1)]
        var ring = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &ring) { raw in
            let waiting = raw.baseAddress!.assumingMemoryBound(to: Int.self)
            var drawFor = count - 1   // the next i whose j is drawn
            func draw() {
                let j = remainder(next(), dividedBy: drawFor + 1)
                upcoming(j)
                waiting[drawFor & (ahead - 1)] = j
                drawFor -= 1
            }
            while drawFor > 0 && count - 1 - drawFor < ahead { draw() }
            for i in stride(from: count - 1, to: 0, by: -1) {
                swap(i, waiting[i & (ahead - 1)])
                if drawFor > 0 { draw() }
            }
        }
    }

    /// `x % n`, by two 32-bit divisions where `n` fits 32 bits: the same remainder as one 64-bit
    /// division, which took a quarter of a one-worker linreg epoch in its shuffle.
    @inline(__always)
    private func remainder(_ x: UInt64, dividedBy n: Int) -> Int {
        guard n <= Int(UInt32.max) else { return Int(x % UInt64(n)) }
        let d = UInt32(truncatingIfNeeded: n)
        let high = UInt32(truncatingIfNeeded: x >> 32) % d
        return Int(d.dividingFullWidth((high: high, low: UInt32(truncatingIfNeeded: x))).remainder)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
