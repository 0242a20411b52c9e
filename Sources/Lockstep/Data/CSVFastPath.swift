import CFastFloat
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
        // A piece per core, of at least 64 KB.
        let parts = max(1, chunks ?? min(ProcessInfo.processInfo.activeProcessorCount, (count - bodyStart) / (64 << 10) + 1))
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
        DispatchQueue.concurrentPerform(iterations: parts) { i in
            results[i].ok = results[i].parse(start, cuts[i]..<cuts[i + 1], isLast: i == parts - 1, slots: slots, width: width,
                                             release: release)
        }
        guard results.allSatisfy(\.ok) else { return nil }
        let rows = results.reduce(0) { $0 + $1.lines.count }
        guard rows > 0 else { return nil }
        release(0..<count)
        // Gathered chunk by chunk into the data set's own buffer; each chunk is freed as it goes.
        var lines: [Int] = [], cells: [Range<Int>] = [], values: [Float?] = []
        lines.reserveCapacity(rows)
        cells.reserveCapacity(rows)
        values.reserveCapacity(rows)
        var line = headerLine, offset = 0
        let features = Tensor(shape: Shape(rows, width)) { out in
            for chunk in results {
                chunk.features.withUnsafeBufferPointer { src in
                    if let s = src.baseAddress { (out.baseAddress! + offset).update(from: s, count: src.count) }
                    offset += src.count
                }
                lines.append(contentsOf: chunk.lines.lazy.map { $0 + line })
                line += chunk.lineCount
                cells.append(contentsOf: chunk.cells)
                values.append(contentsOf: chunk.values)
                chunk.free()
            }
        }
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

/// One chunk's rows, parsed on its own thread.
private final class Chunk: @unchecked Sendable {
    var ok = false
    var features: [Float] = []
    /// Each row's line, counted from the chunk's first line (1).
    var lines: [Int] = []
    var cells: [Range<Int>] = []
    var values: [Float?] = []
    /// Lines begun in the chunk, blank ones included.
    var lineCount = 0

    func free() { features = []; lines = []; cells = []; values = [] }

    /// Parses the lines of `range` (the last chunk also reads a final line without a break);
    /// false where the full reader must read the file. `release` is given the bytes read so far
    /// every few megabytes.
    func parse(_ b: UnsafePointer<UInt8>, _ range: Range<Int>, isLast: Bool, slots: [Int], width: Int,
               release: @Sendable (Range<Int>) -> Void) -> Bool {
        typealias F = CSVFastPath
        let end = range.upperBound, columns = slots.count
        // Rows estimated from the first line's length, so the arrays rarely grow.
        var probe = range.lowerBound
        while probe < end, !F.isBreak(b[probe]) { probe += 1 }
        let estimate = range.count / max(probe - range.lowerBound + 1, 1) + 16
        // Local arrays: a class's stored arrays would be checked for exclusive access at every append.
        var features: [Float] = [], lines: [Int] = [], cells: [Range<Int>] = [], values: [Float?] = []
        var lineCount = 0
        defer { (self.features, self.lines, self.cells, self.values, self.lineCount) = (features, lines, cells, values, lineCount) }
        features.reserveCapacity(estimate * width)
        lines.reserveCapacity(estimate)
        cells.reserveCapacity(estimate)
        values.reserveCapacity(estimate)
        let row = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(width, 1))
        defer { row.deallocate() }
        var released = range.lowerBound
        var s = range.lowerBound
        while s < end || (isLast && s == end) {
            lineCount += 1
            // One pass over the line: each feature is parsed where it starts and must end at a
            // comma, blanks or the line's end; anything else reads the line the plain way below.
            let e: Int
            switch quickLine(b, from: s, end: end, slots: slots, into: row, cells: &cells, values: &values) {
            case .row(let lineEnd):
                e = lineEnd
            case .declined:
                return false
            case .plain:
                var stop = s
                while stop < end, !F.isBreak(b[stop]) {
                    if F.isUnusual(b[stop]) { return false }
                    stop += 1
                }
                e = stop
                switch plainLine(b, s..<e, slots: slots, into: row, cells: &cells, values: &values) {
                case false: return false
                case nil: s = Self.lineAfter(b, e, end: end); continue   // blank
                case true: break
                }
            }
            features.append(contentsOf: UnsafeBufferPointer(rebasing: row[0..<width]))
            lines.append(lineCount)
            let next = Self.lineAfter(b, e, end: end)
            if next - released >= 4 << 20 {
                release(released..<next)
                released = next
            }
            s = next
        }
        return true
    }

    /// Where the line after the break at `e` starts (CR LF is one break).
    @inline(__always) static func lineAfter(_ b: UnsafePointer<UInt8>, _ e: Int, end: Int) -> Int {
        e < end && b[e] == CSVFastPath.cr && e + 1 < end && b[e + 1] == CSVFastPath.lf ? e + 2 : e + 1
    }

    enum QuickLine { case row(end: Int), plain, declined }

    /// The common line in one pass: its row (and where its break is), `.plain` when the line
    /// needs `plainLine` (a blank line, a cell fast_float does not take whole, a short or long
    /// row), `.declined` for a byte only the full reader reads. Writes the row's features into
    /// `row` and its target cell into `cells` and `values` only for a `.row`.
    @inline(__always) private func quickLine(_ b: UnsafePointer<UInt8>, from s: Int, end: Int, slots: [Int], into row: UnsafeMutableBufferPointer<Float>,
                                             cells: inout [Range<Int>], values: inout [Float?]) -> QuickLine {
        typealias F = CSVFastPath
        var p = s, k = 0, target: Range<Int>? = nil
        let columns = slots.count
        while true {
            while p < end, F.isBlank(b[p]) { p += 1 }
            if k == 0, p == end || F.isBreak(b[p]) { return .plain }   // a blank line
            guard k < columns else { return .plain }
            let slot = slots[k]
            var q: Int
            if slot >= 0 {
                var value: Float = 0
                let taken = (b + p).withMemoryRebound(to: CChar.self, capacity: end - p) { lockstep_parse_float_prefix($0, $0 + (end - p), &value) }
                guard taken > 0 else { return .plain }
                q = p + taken
                while q < end, F.isBlank(b[q]) { q += 1 }
                guard q == end || b[q] == F.comma || F.isBreak(b[q]) else { return .plain }
                row[slot] = value
            } else {
                q = p
                while q < end, b[q] != F.comma, !F.isBreak(b[q]) {
                    if F.isUnusual(b[q]) { return .declined }
                    q += 1
                }
                if slot == -1 {
                    var z = q
                    while z > p, F.isBlank(b[z - 1]) { z -= 1 }
                    guard z > p else { return .plain }
                    target = p..<z
                }
            }
            k += 1
            if q < end, b[q] == F.comma {
                p = q + 1
                continue
            }
            guard k == columns else { return .plain }
            if let target {
                cells.append(target)
                values.append(F.number(b + target.lowerBound, b + target.upperBound))
            }
            return .row(end: q)
        }
    }

    /// One line [s, e) the plain way: true with its row (features in `row`, the target cell
    /// appended), nil for a blank line, false where the full reader must read the file.
    private func plainLine(_ b: UnsafePointer<UInt8>, _ line: Range<Int>, slots: [Int], into row: UnsafeMutableBufferPointer<Float>,
                           cells: inout [Range<Int>], values: inout [Float?]) -> Bool? {
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
                cells.append(a..<z)
                values.append(F.number(b + a, b + z))
            }
            k += 1
            if j == e { break }
            fieldStart = j + 1
        }
        return k == columns
    }
}
