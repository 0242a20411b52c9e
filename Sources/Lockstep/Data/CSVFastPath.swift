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
        let results = (0..<parts).map { _ in Chunk() }
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
        var starts: [(offset: Int, line: Int)] = [], total = 0, line = headerLine
        for chunk in results {
            starts.append((total, line))
            total += chunk.capacity
            line += chunk.breaks
        }
        let offsets = starts.map(\.offset), firstLines = starts.map(\.line)
        let hasTarget = roles.contains(.target)
        var lines: [Int] = [], cells: [Range<Int>] = [], values: [Float?] = [], rows = 0
        var features = Tensor(shape: Shape(total, width)) { out in
            lines = Array(unsafeUninitializedCapacity: total) { lineBuffer, lineCount in
                cells = Array(unsafeUninitializedCapacity: hasTarget ? total : 0) { cellBuffer, cellCount in
                    values = Array(unsafeUninitializedCapacity: hasTarget ? total : 0) { valueBuffer, valueCount in
                        // (An empty array's buffer may point at storage shared by every empty array.)
                        guard total > 0, let lineBase = lineBuffer.baseAddress else { return }
                        let into = Destination(features: out.baseAddress!, width: width, lines: lineBase,
                                               cells: hasTarget ? cellBuffer.baseAddress : nil, values: hasTarget ? valueBuffer.baseAddress : nil)
                        DispatchQueue.concurrentPerform(iterations: parts) { i in
                            results[i].parse(start, cuts[i]..<cuts[i + 1], isLast: i == parts - 1, slots: slots, into: into,
                                             at: offsets[i], firstLine: firstLines[i], release: release)
                        }
                        guard results.allSatisfy({ $0.rows != nil }) else { return }
                        // Blank lines leave gaps; the rows after them move up.
                        for (i, chunk) in results.enumerated() {
                            into.move(chunk.rows!, from: offsets[i], to: rows)
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
    /// How many lines end in `bytes` (CR LF counts once), vectorized.
    static func breaks(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.baseAddress.map { lockstep_count_breaks($0, bytes.count) } ?? 0
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

/// Where the chunks write the table: features row-major, each row's line, and its target cell
/// and value where the file has a target.
private struct Destination: @unchecked Sendable {
    let features: UnsafeMutablePointer<Float>
    let width: Int
    let lines: UnsafeMutablePointer<Int>
    let cells: UnsafeMutablePointer<Range<Int>>?
    let values: UnsafeMutablePointer<Float?>?

    /// Moves `count` rows from row `from` to row `to` (regions may overlap).
    func move(_ count: Int, from: Int, to: Int) {
        guard count > 0, from != to else { return }
        memmove(features + to * width, features + from * width, count * width * MemoryLayout<Float>.stride)
        memmove(lines + to, lines + from, count * MemoryLayout<Int>.stride)
        if let cells { memmove(cells + to, cells + from, count * MemoryLayout<Range<Int>>.stride) }
        if let values { memmove(values + to, values + from, count * MemoryLayout<Float?>.stride) }
    }
}

/// One chunk's rows, counted and then parsed on its own thread.
private final class Chunk: @unchecked Sendable {
    /// Line breaks in the chunk.
    var breaks = 0
    /// The most rows the chunk can hold: its lines, and no more than one per `width` bytes.
    var capacity = 0
    /// The rows parsed, or nil where the full reader must read the file.
    var rows: Int?

    /// Counts the chunk's lines, handing `release` each block counted (the parse maps the pages
    /// again, many at a fault, rather than hold the whole file at once).
    func count(_ b: UnsafePointer<UInt8>, _ range: Range<Int>, width: Int, release: @Sendable (Range<Int>) -> Void) {
        breaks = 0
        for block in stride(from: range.lowerBound, to: range.upperBound, by: 4 << 20) {
            let blockEnd = min(block + (4 << 20), range.upperBound)
            breaks += CSVFastPath.breaks(in: UnsafeBufferPointer(start: b + block, count: blockEnd - block))
            // A CR LF pair across the blocks' edge is one break.
            if blockEnd < range.upperBound, b[blockEnd - 1] == CSVFastPath.cr, b[blockEnd] == CSVFastPath.lf { breaks -= 1 }
            release(block..<blockEnd)
        }
        let unended = range.isEmpty || CSVFastPath.isBreak(b[range.upperBound - 1]) ? 0 : 1
        // A row holds at least one byte per feature: a file of blank lines under a wide header
        // must not reserve lines × features.
        capacity = width > 0 ? min(breaks + unended, range.count / width) : breaks + unended
    }

    /// Parses the lines of `range` (the last chunk also reads a final line without a break) into
    /// the rows of `into` from `offset` on; `firstLine`: the line before the chunk's first.
    /// Sets `rows`, nil where the full reader must read the file. `release` is given the bytes
    /// read so far every few megabytes.
    func parse(_ b: UnsafePointer<UInt8>, _ range: Range<Int>, isLast: Bool, slots: [Int], into: Destination, at offset: Int,
               firstLine: Int, release: @Sendable (Range<Int>) -> Void) {
        typealias F = CSVFastPath
        let end = range.upperBound, width = into.width
        var row = into.features + offset * width, lines = into.lines + offset
        var cells = into.cells.map { $0 + offset }, values = into.values.map { $0 + offset }
        let slotPointer = UnsafeMutablePointer<Int>.allocate(capacity: max(slots.count, 1))
        slotPointer.initialize(from: slots, count: slots.count)
        defer { slotPointer.deallocate() }
        // A full chunk parses a line into scratch, to find it blank (or decline a row it cannot hold).
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(width, 1))
        defer { scratch.deallocate() }
        var count = 0, line = firstLine
        var released = range.lowerBound
        var s = range.lowerBound
        while s < end || (isLast && s == end) {
            line += 1
            // One pass over the line: each feature is parsed where it starts and must end at a
            // comma, blanks or the line's end; anything else reads the line the plain way below.
            let e: Int, full = count == capacity
            let (out, cell, value) = full ? (scratch, nil, nil) : (row, cells, values)
            switch quickLine(b, from: s, end: end, slots: slotPointer, columns: slots.count, into: out, cells: cell, values: value) {
            case .row(let lineEnd):
                e = lineEnd
            case .declined:
                return
            case .plain:
                var stop = s
                while stop < end, !F.isBreak(b[stop]) {
                    if F.isUnusual(b[stop]) { return }
                    stop += 1
                }
                e = stop
                switch plainLine(b, s..<e, slots: slots, into: out, cells: cell, values: value) {
                case false: return
                case nil: s = Self.lineAfter(b, e, end: end); continue   // blank
                case true: break
                }
            }
            guard !full else { return }
            lines.pointee = line
            row += width
            lines += 1
            cells? += 1
            values? += 1
            count += 1
            let next = Self.lineAfter(b, e, end: end)
            if next - released >= 4 << 20 {
                release(released..<next)
                released = next
            }
            s = next
        }
        release(released..<end)
        rows = count
    }

    /// Where the line after the break at `e` starts (CR LF is one break).
    @inline(__always) static func lineAfter(_ b: UnsafePointer<UInt8>, _ e: Int, end: Int) -> Int {
        e < end && b[e] == CSVFastPath.cr && e + 1 < end && b[e + 1] == CSVFastPath.lf ? e + 2 : e + 1
    }

    enum QuickLine { case row(end: Int), plain, declined }

    /// The common line in one pass (in C++, where fast_float inlines into the loop): its row (and
    /// where its break is), `.plain` when the line needs `plainLine` (a blank line, a cell
    /// fast_float does not take whole, a short or long row), `.declined` for a byte only the
    /// full reader reads. Writes the row's features into `row` (whatever it returns) and its
    /// target cell into `cells` and `values` (when given) only for a `.row`.
    @inline(__always) private func quickLine(_ b: UnsafePointer<UInt8>, from s: Int, end: Int, slots: UnsafePointer<Int>, columns: Int,
                                             into row: UnsafeMutablePointer<Float>, cells: UnsafeMutablePointer<Range<Int>>?,
                                             values: UnsafeMutablePointer<Float?>?) -> QuickLine {
        var targetStart = -1, targetEnd = -1, value: Float = 0, parsed: Int32 = 0
        let read = (b + s).withMemoryRebound(to: CChar.self, capacity: end - s) {
            lockstep_csv_quick_line($0, $0 + (end - s), slots, columns, row, &targetStart, &targetEnd, &value, &parsed)
        }
        if read == -2 { return .declined }
        guard read >= 0 else { return .plain }
        if targetStart >= 0 {
            let target = s + targetStart..<s + targetEnd
            cells?.pointee = target
            // What fast_float does not take whole ("inf", "+1", a label) is `Float(String)`'s to read.
            values?.pointee = parsed == 1 ? value : CSVFastPath.number(b + target.lowerBound, b + target.upperBound)
        }
        return .row(end: s + read)
    }

    /// One line [s, e) the plain way: true with its row (features in `row`, the target cell
    /// written where given), nil for a blank line, false where the full reader must read the file.
    private func plainLine(_ b: UnsafePointer<UInt8>, _ line: Range<Int>, slots: [Int], into row: UnsafeMutablePointer<Float>,
                           cells: UnsafeMutablePointer<Range<Int>>?, values: UnsafeMutablePointer<Float?>?) -> Bool? {
        typealias F = CSVFastPath
        let (s, e) = (line.lowerBound, line.upperBound), columns = slots.count
        var blank = true
        for i in s..<e where !F.isBlank(b[i]) { blank = false; break }
        if blank { return nil }
        var k = 0, fieldStart = s
        while true {
            var j = fieldStart
            while j < e, b[j] != F.comma { j += 1 }
            var a = fieldStart, z = j
            while a < z, F.isBlank(b[a]) { a += 1 }
            while z > a, F.isBlank(b[z - 1]) { z -= 1 }
            guard k < columns else { return false }
            let slot = slots[k]
            if slot >= 0 {
                guard z > a, let v = F.feature(b + a, b + z) else { return false }
                row[slot] = v
            } else if slot == -1 {
                guard z > a else { return false }
                cells?.pointee = a..<z
                values?.pointee = F.number(b + a, b + z)
            }
            k += 1
            if j == e { break }
            fieldStart = j + 1
        }
        return k == columns
    }
}
