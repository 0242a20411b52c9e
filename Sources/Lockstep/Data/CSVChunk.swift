import CFastFloat
import Foundation

/// Where the chunks write the table: features row-major, each row's line, and its target cell
/// and value where the file has a target.
struct CSVDestination: @unchecked Sendable {
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
final class CSVChunk: @unchecked Sendable {
    /// Line breaks in the chunk.
    var breaks = 0
    /// The most rows the chunk can hold: its lines that are not empty, and no more than one per
    /// `width` bytes.
    var capacity = 0
    /// Where its rows go (the capacities of the chunks before it) and the line before its first.
    var offset = 0, firstLine = 0
    /// The rows parsed, or nil where the full reader must read the file.
    var rows: Int?

    /// Counts the chunk's lines in blocks of `block` bytes, handing `release` each block counted
    /// (the parse maps the pages again, many at a fault, rather than hold the whole file at once).
    func count(_ b: UnsafePointer<UInt8>, _ range: Range<Int>, width: Int, block: Int = 4 << 20,
               release: @Sendable (Range<Int>) -> Void) {
        typealias F = CSVFastPath
        breaks = 0
        // Empty lines hold no row: the chunk's first line when it begins with a break, and each
        // line a break begins right after another.
        var empty = range.isEmpty || !F.isBreak(b[range.lowerBound]) ? 0 : 1
        for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
            let end = min(start + block, range.upperBound)
            let counted = F.breaks(in: UnsafeBufferPointer(start: b + start, count: end - start))
            breaks += counted.breaks
            empty += counted.empty
            // Across the blocks' edge a CR LF pair is one break, and two other breaks an empty line.
            if end < range.upperBound, F.isBreak(b[end - 1]), F.isBreak(b[end]) {
                if b[end - 1] == F.cr, b[end] == F.lf { breaks -= 1 } else { empty += 1 }
            }
            release(start..<end)
        }
        let unended = range.isEmpty || F.isBreak(b[range.upperBound - 1]) ? 0 : 1
        // A row holds at least one byte per feature: a file of blank lines under a wide header
        // must not reserve lines × features. (Lines of blanks alone still leave gaps.)
        let lines = breaks + unended - empty
        capacity = width > 0 ? min(lines, range.count / width) : lines
    }

    /// Parses the lines of `range` (the last chunk also reads a final line without a break) into
    /// the rows of `into` from `offset` on. Sets `rows`, nil where the full reader must read the
    /// file. `release` is given the bytes read so far every few megabytes.
    func parse(_ b: UnsafePointer<UInt8>, _ range: Range<Int>, isLast: Bool, slots: [Int], into: CSVDestination,
               release: @Sendable (Range<Int>) -> Void) {
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
