import Foundation
import Testing
@testable import Lockstep

/// The byte-level reading of common CSV files gives what the full reader gives: the same data
/// set, or — when it steps aside — the full reader's own error. Checked on seeded random files
/// built from the pieces that make CSV hard: spaces and tabs, every newline kind, blank lines,
/// quotes, non-ASCII text, NUL, hexadecimal, infinities, empty cells, short rows, text labels.
@Suite struct TheFastCSVPathReadsAsTheFullReader {
    static let cells = ["1", "-2.5", " 3 ", "\t4e-3", "0.1", "1e40", "inf", "0x10", "", "7", "+8", ".5", "5.", "1_0", "nan",
                        "a", "setosa", "\"q,1\"", "\"2\"", "é", "x\u{0}y", "  ", "16777217", "-0", "1e-46",
                        "1.", "-.5e-3", "00012", "3.4028235e38", "3.4028236e38", "1.00000005960464477539062500001", "2e-45", "1E5",
                        "-9223372036854775808", "9223372036854775808", "+", "-", "e5", "1e", "1.5.2", "--1",
                        "1 2", "2.5 \t", "3e5x", "4,", "-", "1e+", "0.5e-2 "]
    static let newlines = ["\n", "\r\n", "\r", "\u{0B}", "\u{0C}", "\n\n", "\n \t\n", "\u{2028}"]

    func file(_ seed: UInt64) -> (Data, String?) {
        var rng = RandomGenerator(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        let columns = 2 + Int(rng.next() % 3), rows = Int(rng.next() % 6)
        var names = (0..<columns).map { "c\($0)" }
        if rng.next() % 10 == 0 { names[0] = names[1] }   // a duplicate name now and then
        let plain = rng.next() % 3 != 0                     // most files: numbers only, mostly valid
        var text = names.joined(separator: rng.next() % 2 == 0 ? "," : " , ") + pick(Self.newlines)
        for _ in 0..<rows {
            let width = rng.next() % 12 == 0 ? columns - 1 : columns
            let fields = (0..<width).map { _ in plain && rng.next() % 8 != 0 ? String(Float(Int(rng.next() % 2000)) / 8 - 100) : pick(Self.cells) }
            text += fields.joined(separator: ",") + pick(Self.newlines)
        }
        let target: String? = rng.next() % 3 == 0 ? pick(names + ["missing"]) : nil
        return (Data(text.utf8), target)
    }

    func outcome(_ data: Data, _ target: String?, fast: Bool, chunks: Int? = nil) -> String {
        do {
            let d = try Dataset.readCSV(data: data, path: "f.csv", target: target, task: nil, fastPath: fast, chunks: chunks)
            return "\(d.features.shape) \(d.features.scalars.map(\.bitPattern)) \(d.targets.shape) \(d.targets.scalars.map(\.bitPattern)) "
                + "\(d.featureNames) \(d.targetName) \(d.task) \(d.classLabels)"
        } catch {
            return "error: \(error)"
        }
    }

    @Test func onTwoThousandRandomFiles() {
        var fastTaken = 0
        for seed in 0..<2000 as Range<UInt64> {
            let (data, target) = file(seed)
            let full = outcome(data, target, fast: false)
            // The rows parsed in one piece and in several (chunk bounds fall inside rows, blank lines, CR LF).
            for chunks in [1, 2, 5] {
                #expect(outcome(data, target, fast: true, chunks: chunks) == full,
                        "seed \(seed), \(chunks) chunks: \(String(decoding: data, as: UTF8.self).debugDescription)")
            }
            if CSVFastPath(data, target: target) != nil { fastTaken += 1 }
        }
        #expect(fastTaken > 300, "the fast path read only \(fastTaken) of 2000 files")   // it is exercised, not always declined
    }

    /// The reader of rows for a trained model (features by name in the model's order, the target
    /// when asked and present, other columns skipped) gives the full reader's rows or its error.
    @Test func rowsForATrainedModelOnTwoThousandRandomFiles() {
        var fastTaken = 0
        for seed in 0..<2000 as Range<UInt64> {
            let (data, _) = file(seed)
            var rng = RandomGenerator(seed: seed &+ 77)
            let names = ["c0", "c1", "c2", "c3", "missing"]
            let features = (0..<(1 + Int(rng.next() % 2))).map { _ in names[Int(rng.next() % (rng.next() % 9 == 0 ? 5 : 3))] }
            let target = names[Int(rng.next() % 5)]
            let task: LearningTask = rng.next() % 2 == 0 ? .classification : .regression
            let readTargets = rng.next() % 4 != 0
            let labels = ["1", "7", "-2", "setosa", "16777217", "0"]
            func outcome(fast: Bool, chunks: Int?) -> String {
                do {
                    let (x, y) = try data.withUnsafeBytes {
                        try Dataset.readCSV(bytes: $0.bindMemory(to: UInt8.self), path: "f.csv", featureNames: features, targetName: target,
                                            task: task, classLabels: labels, readTargets: readTargets, fastPath: fast, chunks: chunks)
                    }
                    return "\(x.shape) \(x.scalars.map(\.bitPattern)) \(y.map { "\($0.shape) \($0.scalars.map(\.bitPattern))" } ?? "none")"
                } catch {
                    return "error: \(error)"
                }
            }
            let full = outcome(fast: false, chunks: nil)
            for chunks in [1, 2, 5] {
                #expect(outcome(fast: true, chunks: chunks) == full,
                        "seed \(seed), \(chunks) chunks, \(features) \(target) \(task) \(readTargets): \(String(decoding: data, as: UTF8.self).debugDescription)")
            }
            if !full.hasPrefix("error") { fastTaken += 1 }
        }
        #expect(fastTaken > 300, "only \(fastTaken) of 2000 files were read")
    }

    @Test func aPlainFileTakesTheFastPath() throws {
        let data = Data("x1, x2,y\r\n1,2.5,a\n\n 3 ,\t4,b\n".utf8)
        let fast = try #require(CSVFastPath(data, target: nil))
        #expect(fast.header == ["x1", "x2", "y"] && fast.features.scalars == [1, 2.5, 3, 4] && fast.lines == [2, 4])
        #expect(fast.targetCells.map { String(decoding: data[$0], as: UTF8.self) } == ["a", "b"] && fast.targetValues == [nil, nil])
    }

    /// A file of many rows split in pieces at every few bytes gives the rows, lines and values of
    /// one piece: the pieces meet inside CR LF pairs, blank lines and rows.
    @Test func piecesMeetAnywhereInTheFile() throws {
        var text = "a,b,y\r\n"
        for i in 0..<500 { text += "\(Float(i) / 7),\(i % 3 == 0 ? " " : "")-\(i)e-2,\(i % 4)" + (i % 5 == 0 ? "\r\n\r\n" : i % 7 == 0 ? "\r" : "\n") }
        let data = Data(text.utf8)
        let one = try #require(CSVFastPath(data, target: nil, chunks: 1))
        for chunks in [2, 3, 8, 64, 499] {
            let many = try #require(CSVFastPath(data, target: nil, chunks: chunks))
            #expect(many.features == one.features && many.lines == one.lines && many.targetCells == one.targetCells
                    && many.targetValues.map { $0?.bitPattern } == one.targetValues.map { $0?.bitPattern }, "\(chunks) chunks")
        }
        #expect(one.lines.count == 500 && one.lines.last! > 500)
    }
}

/// The lines of a file longer than the blocks its lines are counted in.
@Suite struct TheFastCSVPathCountsLinesInBlocks {
    /// The vectorized count of line breaks is the count byte by byte, CR LF once, and so is its
    /// count of breaks another break follows (not LF after CR), on buffers of every length up to
    /// 600 and about the 4 080-byte runs its byte-wide sums cover, made of breaks, CRs, LFs and
    /// other bytes.
    @Test func lineBreaksAreCountedAsOneByOne() {
        var rng = RandomGenerator(seed: 11)
        let alphabet: [UInt8] = [0x0A, 0x0B, 0x0C, 0x0D, 0x0D, 0x0A, 0x61, 0x00, 0xFF, 0x09, 0x0E]
        func isBreak(_ b: UInt8) -> Bool { (0x0A...0x0D).contains(b) }
        for length in Array(0..<600) + [4079, 4080, 4081, 4096, 4097, 8160, 8177, 8200] {
            let bytes = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            var breaks = 0, empty = 0
            for (i, b) in bytes.enumerated() where isBreak(b) {
                let pair = b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A
                if !pair { breaks += 1 }
                if !pair, i + 1 < bytes.count, isBreak(bytes[i + 1]) { empty += 1 }
            }
            let counted = bytes.withUnsafeBufferPointer { CSVFastPath.breaks(in: $0) }
            #expect(counted.breaks == breaks && counted.empty == empty, "\(bytes)")
        }
    }

    /// A chunk reserves a row for each line that is not empty — in blocks of any size, whatever
    /// the line ends (LF, CR LF, CR, VT, FF) and wherever the empty lines stand: a file with a
    /// blank line after every row must not reserve (and touch) room for twice its rows.
    @Test func aChunkReservesARowForEachLineThatIsNotEmpty() {
        var rng = RandomGenerator(seed: 5)
        let ends: [[UInt8]] = [[0x0A], [0x0D, 0x0A], [0x0D], [0x0B], [0x0C]]
        for trial in 0..<300 {
            var bytes: [UInt8] = [], rows = 0
            for _ in 0..<Int(rng.next() % 40) {
                if rng.next() % 3 != 0 {
                    bytes += Array("1,2".utf8)
                    rows += 1
                }
                bytes += ends[Int(rng.next() % UInt64(ends.count))]
            }
            if rng.next() % 2 == 0 { bytes += Array("3,4".utf8); rows += 1 }   // a last line without a break
            for block in [1, 2, 3, 16, 1 << 20] {
                let chunk = CSVChunk()
                bytes.withUnsafeBufferPointer { b in if let base = b.baseAddress { chunk.count(base, 0..<b.count, width: 1, block: block) { _ in } } }
                #expect(chunk.capacity == rows, "trial \(trial), blocks of \(block): \(bytes)")
            }
        }
    }

    /// A CR LF pair whose CR ends one 4 MB counting block and whose LF starts the next is one
    /// line break: the rows of the next chunk keep their line numbers.
    @Test func aLineBreakAcrossCountingBlocksIsOneBreak() throws {
        for pad in 0..<7 {
            let header = "a,b,y\r\n"
            var text = header + String(repeating: " ", count: pad)
            let rows = 1_300_000   // two chunks of 4.5 MB: the first holds a block's edge
            text.reserveCapacity(header.utf8.count + pad + rows * 7)
            for _ in 0..<rows { text += "1,2,3\r\n" }
            let data = Data(text.utf8)
            let edge = header.utf8.count + (4 << 20)
            guard data[edge - 1] == 0x0D else { continue }
            #expect(data[edge] == 0x0A)
            let fast = try #require(CSVFastPath(data, target: nil, chunks: 2))
            #expect(fast.lines.count == rows && fast.lines.last == rows + 1)
            return
        }
        Issue.record("no padding put a CR LF pair across the counting blocks' edge")
    }
}
