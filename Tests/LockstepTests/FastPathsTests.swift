import Foundation
import Testing
@testable import Lockstep

/// Issue 13's faster forms of data set-up and of the step compute what the plain forms did, to
/// the bit: a run's bytes must not depend on which of them ran.
@Suite struct FastPathsComputeWhatThePlainOnesDid {
    /// The shuffle as it was written before: one 64-bit remainder per draw, on `Int`s.
    func plainShuffle(_ n: Int, seed: UInt64) -> [Int] {
        var rng = RandomGenerator(seed: seed), order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return order
    }

    @Test(arguments: [2, 3, 1000, 65_537])
    func theShuffleDrawsTheSamePermutationOnNarrowAndWideIndices(n: Int) {
        var wide = Array(0..<n), narrow = (0..<UInt32(n)).map { $0 }
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7)
        a.shuffle(&wide)
        narrow.withUnsafeMutableBufferPointer { b.shuffle($0) }
        #expect(wide == plainShuffle(n, seed: 7))
        #expect(narrow.map(Int.init) == wide)
        #expect(a.next() == b.next(), "both consumed the same draws")
    }

    /// The vectorized check of a data set finds what a scalar scan finds: the first NaN, infinity
    /// or value beyond the limit, at every position of blocks and of their edges.
    @Test func theVectorizedCheckFindsTheFirstValueBeyondAsAScanDoes() {
        func scan(_ x: [Float], _ limit: Float) -> Int? { x.firstIndex { !(abs($0) <= limit) } }
        for n in [0, 1, 7, 255, 256, 257, 600] {
            let clean = (0..<n).map { Float($0 % 13) - 6.5 }
            #expect(clean.withUnsafeBufferPointer { Kernels.firstIndex(in: $0) } == nil)
            for position in Set([0, n / 2, n - 1, 255, 256]) where position >= 0 && position < n {
                for bad: Float in [.nan, .infinity, -.infinity, 2e18, -2e18] {
                    var x = clean
                    x[position] = bad
                    if position + 1 < n { x[n - 1] = .nan }   // a later one is not the first
                    for limit: Float in [.greatestFiniteMagnitude, 1e18] {
                        let found = x.withUnsafeBufferPointer { Kernels.firstIndex(beyond: limit, in: $0) }
                        #expect(found == scan(x, limit), "n \(n), \(bad) at \(position), limit \(limit)")
                    }
                }
            }
        }
        #expect([Float(1e18), -1e18].withUnsafeBufferPointer { Kernels.firstIndex(beyond: 1e18, in: $0) } == nil, "the limit itself is within")
    }

    @Test func aSplitIsThePlainShufflesPartition() throws {
        let data = Dataset.linear(count: 503, seed: 2)
        let split = try data.split(testFraction: 0.2, validationFraction: 0.1, seed: 11)
        let order = plainShuffle(503, seed: 11)
        #expect(split.test.features == data.features.gatherRows(Array(order[0..<101])))
        #expect(split.validation!.features == data.features.gatherRows(Array(order[101..<152])))
        #expect(split.train.targets == data.targets.gatherRows(Array(order[152...])))
    }

    /// Data the caller gives up is split in place — its rows shuffled where they are, the train
    /// part keeping their memory — into the parts the copying split makes of data still held
    /// elsewhere: multi-output targets, classes, samples of several dimensions, with and without
    /// a validation part, small and beyond the caches.
    @Test(arguments: [("table", 503, 0.1), ("table", 70_001, 0.0), ("table", 70_001, 0.15), ("classes", 999, 0.1), ("images", 300, 0.2)])
    func aSplitInPlaceGivesTheCopyingSplitsParts(kind: String, rows: Int, validation: Double) throws {
        func make() throws -> Dataset {
            switch kind {
            case "classes": return Dataset.blobs(count: rows, features: 5, classes: 3, seed: 4)
            case "images":
                return try Dataset(features: Tensor((0..<(rows * 16)).map { Float($0) }, shape: Shape(rows, 1, 4, 4)),
                                   targets: Tensor((0..<rows).map { Float($0 % 3) }), task: .classification)
            default:
                return try Dataset(features: Tensor((0..<(rows * 3)).map { Float($0) }, shape: Shape(rows, 3)),
                                   targets: Tensor((0..<(rows * 2)).map { Float($0) * 0.5 }, shape: Shape(rows, 2)), task: .regression)
            }
        }
        let held = try make()
        let copied = try held.split(testFraction: 0.2, validationFraction: validation, seed: 11)
        let given = try make()
        let memory = given.features.withUnsafeBufferPointer { $0.baseAddress }
        let inPlace = try (consume given).split(testFraction: 0.2, validationFraction: validation, seed: 11)
        #expect(inPlace.train.features.withUnsafeBufferPointer { $0.baseAddress } == memory, "split in place")
        #expect(held.count == rows, "the held data is whole")
        #expect(inPlace.train.features == copied.train.features && inPlace.train.targets == copied.train.targets)
        #expect(inPlace.test.features == copied.test.features && inPlace.test.targets == copied.test.targets)
        #expect(inPlace.validation?.features == copied.validation?.features && inPlace.validation?.targets == copied.validation?.targets)
        #expect(inPlace.train.classLabels == copied.train.classLabels && inPlace.test.featureNames == copied.test.featureNames)
    }

    @Test func copiesOfEveryShortLengthAreExact() {
        let source = (0..<48).map { Float($0) + 0.5 }
        for n in 0...40 {
            for offset in 0..<3 {   // unaligned starts too
                var out = [Float](repeating: -1, count: 48)
                source.withUnsafeBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { o in Kernels.copy(s.baseAddress! + offset, o.baseAddress! + offset, n) }
                }
                #expect(Array(out[offset..<(offset + n)]) == Array(source[offset..<(offset + n)]), "n = \(n)")
                #expect(out[(offset + n)...].allSatisfy { $0 == -1 } && out[..<offset].allSatisfy { $0 == -1 }, "n = \(n) wrote outside")
            }
        }
    }

    @Test func copiesMayOverlapAsMemmoveAllows() {
        for n in 1...20 {
            for shift in [-2, -1, 1, 2] {
                var buffer = (0..<48).map(Float.init)
                let expected = Array(buffer[10..<(10 + n)])
                buffer.withUnsafeMutableBufferPointer { b in Kernels.copy(b.baseAddress! + 10, b.baseAddress! + 10 + shift, n) }
                #expect(Array(buffer[(10 + shift)..<(10 + shift + n)]) == expected, "n = \(n), shift \(shift)")
            }
        }
    }

    @Test(arguments: [1, 3, 7, 10, 63, 64, 65, 130])
    func theStandardizerMatchesItsScalarForm(columns: Int) {
        var rng = RandomGenerator(seed: UInt64(columns))
        let rows = 37
        let x = Tensor((0..<(rows * columns)).map { _ in rng.nextNormal() * 3 + 1 }, shape: Shape(rows, columns))
        var sum = [Double](repeating: 0, count: columns), squares = sum
        for r in 0..<rows {
            for c in 0..<columns {
                let v = Double(x[r, c])
                sum[c] += v
                squares[c] += v * v
            }
        }
        let mean = sum.map { Float($0 / Double(rows)) }
        let std = zip(sum, squares).map { s, q -> Float in
            let sd = max(q / Double(rows) - (s / Double(rows)) * (s / Double(rows)), 0).squareRoot()
            return sd > 1e-12 ? Float(sd) : 1
        }
        let scaler = Standardizer(fitting: x)
        #expect(scaler.mean == mean && scaler.std == std)
        let expected = x.scalars.enumerated().map { i, v in (v - mean[i % columns]) / std[i % columns] }
        #expect(scaler.transform(x).scalars == expected)
    }

    @Test func gemmWithBetaZeroIgnoresWhatCHeld() {
        // A is 3×4, B is 4×5; C is 3×5 inside rows of 7 (ldc > n), first filled with NaN.
        let a = (0..<12).map { Float($0) * 0.25 - 1 }, b = (0..<20).map { Float($0) * 0.125 + 0.5 }
        var c = [Float](repeating: .nan, count: 3 * 7)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transposeA: false, transposeB: false, m: 3, n: 5, k: 4, a: a.baseAddress!, lda: 4,
                              b: b.baseAddress!, ldb: 5, beta: 0, c: c.baseAddress!, ldc: 7)
                }
            }
        }
        for r in 0..<3 {
            for j in 0..<5 {
                let exact = (0..<4).reduce(Double(0)) { $0 + Double(a[r * 4 + $1]) * Double(b[$1 * 5 + j]) }
                #expect(abs(Double(c[r * 7 + j]) - exact) < 1e-5, "C[\(r), \(j)]")
            }
            #expect(c[(r * 7 + 5)..<(r * 7 + 7)].allSatisfy { $0.isNaN }, "the columns past n are not C's")
        }
    }

    @Test func anArenasZeroedBlocksAreZeroInNewAndReusedChunks() {
        // Memory the allocator hands out again holds what it held: leave some full of nines.
        for _ in 0..<8 {
            let junk = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 64)
            junk.initializeMemory(as: Float.self, repeating: 9, count: 1024)
            junk.deallocate()
        }
        let arena = Arena(chunkSize: 64)
        for _ in 0..<3 {
            let small = arena.allocate(40), large = arena.allocate(1000)   // the second gets a chunk of its own
            #expect((0..<40).allSatisfy { small[$0] == 0 } && (0..<1000).allSatisfy { large[$0] == 0 })
            small.update(repeating: 9, count: 40)
            large.update(repeating: 9, count: 1000)
            arena.reset()
        }
    }

    /// An .npy v1.0 file of a 2-D table in `descr` ("<f4" or "<f8").
    func table(_ values: [Double], rows: Int, descr: String) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(values.count / rows)), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count + 1), 0] + Array((header + "\n").utf8))
        for v in values {
            if descr == "<f4" { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            else { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    @Test func aNonFiniteValueOfAFloat32TableIsNamedByRowAndColumn() throws {
        var values = (0..<(6 * 3)).map { Double($0) }
        values[4 * 3 + 2] = .nan   // row 5's target
        let url = try temporaryDirectory().appendingPathComponent("bad.npy")
        try table(values, rows: 6, descr: "<f4").write(to: url)
        #expect { try Dataset.readNPY(at: url.path, task: .regression) } throws: { "\($0)" == "\(url.path): row 5, column 3: not a finite number" }
        values[4 * 3 + 2] = 1
        values[1 * 3 + 1] = .infinity   // row 2's second feature
        try table(values, rows: 6, descr: "<f4").write(to: url)
        #expect { try Dataset.readNPY(at: url.path, task: .regression) } throws: { "\($0)" == "\(url.path): row 2, column 2: not a finite number" }
    }

    /// A table long enough to be copied in pieces on several cores names the value a row-by-row
    /// reading finds first: the first bad feature in any piece, before any bad target.
    @Test func aNonFiniteValueOfALongTableIsNamedAsInOnePiece() throws {
        let rows = 200_000
        var values = [Double](repeating: 1, count: rows * 3)
        values[10 * 3 + 2] = .nan               // row 11's target, in the first piece
        values[150_000 * 3 + 0] = .infinity     // row 150 001's first feature, in a later piece
        values[190_000 * 3 + 1] = -.infinity    // row 190 001's second feature
        let url = try temporaryDirectory().appendingPathComponent("long.npy")
        try table(values, rows: rows, descr: "<f4").write(to: url)
        #expect { try Dataset.readNPY(at: url.path, task: .regression) } throws: { "\($0)" == "\(url.path): row 150001, column 1: not a finite number" }
        values[150_000 * 3 + 0] = 1
        values[190_000 * 3 + 1] = 1
        try table(values, rows: rows, descr: "<f4").write(to: url)
        #expect { try Dataset.readNPY(at: url.path, task: .regression) } throws: { "\($0)" == "\(url.path): row 11, column 3: not a finite number" }
    }

    @Test func aTargetTheHeaderDoesNotNameIsRefusedBeforeTheRowsAreRead() throws {
        // The body would stop the full reader (an unterminated quote); the header is read first.
        let path = try temporaryFile("t.csv", "a,b,y\n1,2,3\n4,\"5,6\n")
        #expect { try Dataset.read(at: path, target: "z") } throws: { "\($0)" == "\(path):1: no column named 'z'; the columns are a, b, y" }
        let fine = try temporaryFile("u.csv", "a,b,y\n1,2,3\n4,5,6\n")
        #expect(try Dataset.read(at: fine, target: "b").featureNames == ["a", "y"])
    }

    @Test func aFileHashRefusesAFileReplacedOrChangedSinceItWasRead() throws {
        let folder = try temporaryDirectory()
        let path = folder.appendingPathComponent("d.csv").path
        try Data("a,y\n1,2\n".utf8).write(to: URL(fileURLWithPath: path))
        let stamp = try #require(FileStamp(path: path))
        #expect(try Dataset.fileHash(at: path, unchangedSince: stamp).hexDigest() == Dataset.fileHash(at: path).hexDigest())
        // Replaced by another file (another inode), then written to in place (another size).
        let other = folder.appendingPathComponent("other.csv").path
        try Data("a,y\n1,3\n".utf8).write(to: URL(fileURLWithPath: other))
        #expect(rename(other, path) == 0)
        #expect { try Dataset.fileHash(at: path, unchangedSince: stamp) } throws: { "\($0)".contains("changed while it was being read") }
        let restamped = try #require(FileStamp(path: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("4,5\n".utf8))
        try handle.close()
        #expect { try Dataset.fileHash(at: path, unchangedSince: restamped) } throws: { "\($0)".contains("changed while it was being read") }
        #expect(FileStamp(path: folder.path) == nil, "a directory has no stamp")
    }

    @Test func aFloat32TableReadInPlaceEqualsTheConvertedFloat64One() throws {
        var rng = RandomGenerator(seed: 5)
        let values = (0..<(50 * 4)).map { _ in Double(Float(rng.nextNormal())) }
        let folder = try temporaryDirectory()
        let f4 = folder.appendingPathComponent("t4.npy"), f8 = folder.appendingPathComponent("t8.npy")
        try table(values, rows: 50, descr: "<f4").write(to: f4)
        try table(values, rows: 50, descr: "<f8").write(to: f8)
        let inPlace = try Dataset.readNPY(at: f4.path, task: .regression), converted = try Dataset.readNPY(at: f8.path, task: .regression)
        #expect(inPlace.features == converted.features && inPlace.targets == converted.targets)
        #expect(inPlace.features[49, 2] == Float(values[49 * 4 + 2]) && inPlace.targets[49, 0] == Float(values[49 * 4 + 3]))
    }
}
