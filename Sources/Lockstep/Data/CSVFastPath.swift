import CFastFloat
import CVector
import Foundation

/// The common CSV file read at byte level, in chunks parsed at once on the available cores: ASCII,
/// no quotes, every row whole and every feature a finite number. It yields exactly what
/// `CSVTable` and the feature parsing give for such a file (the same lines, fields, trimming and
/// correctly rounded `Float` values) without a `String` per line, feature or target, or nothing
/// at all — anything else (a quote, a non-ASCII byte, a NUL, a short row, a cell that is not a
/// number) is left to `CSVTable`, whose error names file, line and column.
///
/// Numbers go through fast_float (Debian's libfast-float-dev, behind `CFastFloat`), correctly
/// rounded like the `strtof` behind `Float(String)`, so the two agree on every decimal it
/// accepts; what it does not accept (`+1`, `inf`, `0x10`) is handed to `Float(String)` as before.
struct CSVFastPath {
    /// What a column is to the reader: the feature at this position of a row, the target, or
    /// a column it skips (its cells may hold anything the fast path reads, empty included).
    enum Role: Equatable { case feature(Int), target, ignored }

    var header: [String]
    /// The target's column, when one was asked for and found.
    var targetIndex: Int?
    /// Row-major, the features in the order of their positions.
    var features: Tensor
    /// The 1-based line of each data row.
    var lines: [Int]
    /// Each row's target cell, by its bytes in the file.
    var targetCells: [Range<Int>]
    /// `Float(cell)` of each row's target cell.
    var targetValues: [Float?]

    /// Reads `bytes` for training: every column but the target is a feature, in file order;
    /// `target`: the target column's name, or nil for the last column.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, target: String?, chunks: Int? = nil,
          release: @escaping @Sendable (Range<Int>) -> Void = { _ in }) {
        self.init(bytes, chunks: chunks, release: release) { names in
            // What the full reader refuses about a header is its to say.
            guard names.count >= 2, Set(names).count == names.count, !names.contains("") else { return nil }
            guard let t = target.map({ names.firstIndex(of: $0) }) ?? names.count - 1 else { return nil }
            return names.indices.map { $0 == t ? .target : .feature($0 < t ? $0 : $0 - 1) }
        }
    }

    /// Reads `bytes` with the roles `layout` gives the header's columns (nil: the full reader
    /// must read the file). `chunks` overrides how many pieces the rows are parsed in (the tests
    /// vary it; the result does not depend on it). `release` is handed each range of bytes once
    /// it has been read.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, chunks: Int? = nil, release: @escaping @Sendable (Range<Int>) -> Void = { _ in },
          layout: ([String]) -> [Role]?) {
        guard let base = bytes.baseAddress, let (header, bodyStart, headerLine) = Self.header(bytes),
              let roles = layout(header), roles.count == header.count else { return nil }
        let width = roles.reduce(0) { if case .feature = $1 { return $0 + 1 } else { return $0 } }
        let count = bytes.count
        // Eight pieces per core, of at least 1 MB: a core that runs slow (a busy host's) leaves
        // its pieces to the others rather than hold the whole read back.
        let parts = max(1, chunks ?? min(8 * ProcessInfo.processInfo.activeProcessorCount, (count - bodyStart) / (1 << 20) + 1))
        // Chunk boundaries just after a line break (CR LF kept whole), so every chunk starts a line.
        var bounds = [bodyStart]
        for i in 1..<parts {
            var p = max(bodyStart + (count - bodyStart) / parts * i, bounds[i - 1])
            while p < count, !Self.isBreak(base[p]) { p += 1 }
            if p < count { p += base[p] == Self.cr && p + 1 < count && base[p + 1] == Self.lf ? 2 : 1 }
            bounds.append(p)
        }
        bounds.append(count)
        let cuts = bounds
        nonisolated(unsafe) let start = base   // read only, for the call
        let results = (0..<parts).map { _ in CSVChunk() }
        // Per column: its feature position, -1 the target, -2 skipped.
        let slots = roles.map { role -> Int in
            switch role { case .feature(let k): return k; case .target: return -1; case .ignored: return -2 }
        }
        // First the lines of every chunk are counted (vectorized, at memory speed), so that each
        // chunk parses its rows straight to their place in the final buffers, after the rows of
        // the chunks before it: no copy of the table, no second set of fresh pages.
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            results[i].count(start, cuts[i]..<cuts[i + 1], width: width, release: release)
        }
        var total = 0, line = headerLine
        for chunk in results {
            (chunk.offset, chunk.firstLine) = (total, line)
            total += chunk.capacity
            line += chunk.breaks
        }
        let hasTarget = roles.contains(.target)
        var lines: [Int] = [], cells: [Range<Int>] = [], values: [Float?] = [], rows = 0
        var features = Tensor(shape: Shape(total, width)) { out in
            lines = Array(unsafeUninitializedCapacity: total) { lineBuffer, lineCount in
                cells = Array(unsafeUninitializedCapacity: hasTarget ? total : 0) { cellBuffer, cellCount in
                    values = Array(unsafeUninitializedCapacity: hasTarget ? total : 0) { valueBuffer, valueCount in
                        // (An empty array's buffer may point at storage shared by every empty array.)
                        guard total > 0, let lineBase = lineBuffer.baseAddress else { return }
                        let into = CSVDestination(features: out.baseAddress!, width: width, lines: lineBase,
                                               cells: hasTarget ? cellBuffer.baseAddress : nil, values: hasTarget ? valueBuffer.baseAddress : nil)
                        DispatchQueue.concurrentPerform(iterations: parts) { i in
                            results[i].parse(start, cuts[i]..<cuts[i + 1], isLast: i == parts - 1, slots: slots, into: into,
                                             release: release)
                        }
                        guard results.allSatisfy({ $0.rows != nil }) else { return }
                        // Blank lines leave gaps; the rows after them move up.
                        for chunk in results {
                            into.move(chunk.rows!, from: chunk.offset, to: rows)
                            rows += chunk.rows!
                        }
                        valueCount = hasTarget ? rows : 0
                        cellCount = hasTarget ? rows : 0
                    }
                }
                lineCount = rows
            }
        }
        guard rows > 0 else { return nil }
        release(0..<count)
        features.keepFirstRows(rows)
        self.header = header
        self.targetIndex = roles.firstIndex(of: .target)
        self.features = features
        self.lines = lines
        self.targetCells = cells
        self.targetValues = values
    }

    /// `Data` in, for the tests.
    init?(_ data: Data, target: String?, chunks: Int? = nil) {
        guard let parsed = data.withUnsafeBytes({ CSVFastPath($0.bindMemory(to: UInt8.self), target: target, chunks: chunks) })
        else { return nil }
        self = parsed
    }

    static let comma = UInt8(ascii: ","), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), quote = UInt8(ascii: "\"")
    static let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D

    /// LF, VT, FF or CR: where `Character.isNewline` splits ASCII text.
    @inline(__always) static func isBreak(_ b: UInt8) -> Bool { b >= 0x0A && b <= 0x0D }
    /// How many lines end in `bytes` (CR LF counts once), and how many of those breaks another
    /// break follows within `bytes` (each begins an empty line), vectorized.
    static func breaks(in bytes: UnsafeBufferPointer<UInt8>) -> (breaks: Int, empty: Int) {
        guard let base = bytes.baseAddress else { return (0, 0) }
        var empty = 0
        let breaks = lockstep_count_breaks(base, bytes.count, &empty)
        return (breaks, empty)
    }

    /// A byte only the full reader reads: non-ASCII (Unicode newlines, spaces and grapheme
    /// clusters), a quote, NUL.
    @inline(__always) static func isUnusual(_ b: UInt8) -> Bool { b >= 0x80 || b == quote || b == 0 }
    @inline(__always) static func isBlank(_ b: UInt8) -> Bool { b == space || b == tab }

    /// The header (the first line that is not blank): its names, where the data rows start and
    /// the header's line number; nil where a byte needs the full reader.
    static func header(_ bytes: UnsafeBufferPointer<UInt8>) -> ([String], Int, Int)? {
        var start = 0, line = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, !isBreak(bytes[end]) {
                if isUnusual(bytes[end]) { return nil }
                end += 1
            }
            line += 1
            let next = end < bytes.count && bytes[end] == cr && end + 1 < bytes.count && bytes[end + 1] == lf ? end + 2 : end + 1
            defer { start = next }
            if (start..<end).allSatisfy({ isBlank(bytes[$0]) }) { continue }
            var names: [String] = [], fieldStart = start
            for i in start...end where i == end || bytes[i] == comma {
                var a = fieldStart, b = i
                while a < b, isBlank(bytes[a]) { a += 1 }
                while b > a, isBlank(bytes[b - 1]) { b -= 1 }
                names.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[a..<b]), as: UTF8.self))
                fieldStart = i + 1
            }
            return (names, min(next, bytes.count), line)
        }
        return nil
    }

    /// `Float(String)` of a field, refusing what the full reader refuses of a feature
    /// (hexadecimal, not finite).
    @inline(__always) static func feature(_ first: UnsafePointer<UInt8>, _ last: UnsafePointer<UInt8>) -> Float? {
        var value: Float = 0
        if first.withMemoryRebound(to: CChar.self, capacity: last - first, { lockstep_parse_float($0, $0 + (last - first), &value) }) == 1 {
            return value
        }
        let field = UnsafeBufferPointer(start: first, count: last - first)
        if field.contains(UInt8(ascii: "x")) || field.contains(UInt8(ascii: "X")) { return nil }
        guard let v = Float(String(decoding: field, as: UTF8.self)), v.isFinite else { return nil }
        return v
    }

    /// `Float(String)` of a target cell: any number it reads, infinities and NaN included.
    @inline(__always) static func number(_ first: UnsafePointer<UInt8>, _ last: UnsafePointer<UInt8>) -> Float? {
        var value: Float = 0
        if first.withMemoryRebound(to: CChar.self, capacity: last - first, { lockstep_parse_float($0, $0 + (last - first), &value) }) == 1 {
            return value
        }
        return Float(String(decoding: UnsafeBufferPointer(start: first, count: last - first), as: UTF8.self))
    }

    /// `Int64(String)` of a cell: an optional sign and decimal digits, nil on overflow.
    static func integer(_ cell: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0, negative = false
        if i < cell.count, cell[i] == UInt8(ascii: "-") || cell[i] == UInt8(ascii: "+") { negative = cell[i] == UInt8(ascii: "-"); i += 1 }
        guard i < cell.count else { return nil }
        var value: Int64 = 0
        while i < cell.count {
            let digit = Int64(cell[i]) - 48
            guard digit >= 0, digit <= 9 else { return nil }
            let (scaled, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? scaled.subtractingReportingOverflow(digit) : scaled.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
            i += 1
        }
        return value
    }
}
