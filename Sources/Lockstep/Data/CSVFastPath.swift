import Foundation

/// The common CSV file read at byte level: ASCII, no quotes, every row whole and every feature
/// a finite number. It yields exactly what `CSVTable` and the feature parsing give for such a
/// file (the same lines, fields, trimming and `Float` conversion) without a `String` per line or
/// per feature, or nothing at all — anything else (a quote, a non-ASCII byte, a NUL, a short row,
/// a cell that is not a number) is left to `CSVTable`, whose error names file, line and column.
struct CSVFastPath {
    var header: [String]
    /// Row-major, the feature columns (all but the target) in file order.
    var features: [Float]
    var targets: [String]
    /// The 1-based line of each data row.
    var lines: [Int]

    /// `target`: the target column's name, or nil for the last column.
    init?(_ data: Data, target: String?) {
        guard let parsed = data.withUnsafeBytes({ (raw: UnsafeRawBufferPointer) in
            Self.parse(raw.bindMemory(to: UInt8.self), target: target)
        }) else { return nil }
        self = parsed
    }

    private init(header: [String], features: [Float], targets: [String], lines: [Int]) {
        self.header = header
        self.features = features
        self.targets = targets
        self.lines = lines
    }

    private static let comma = UInt8(ascii: ","), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    private static let lf: UInt8 = 0x0A, vt: UInt8 = 0x0B, ff: UInt8 = 0x0C, cr: UInt8 = 0x0D

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, target: String?) -> CSVFastPath? {
        // Bytes that need the full reader: non-ASCII (Unicode newlines, spaces and grapheme
        // clusters), quotes, NUL.
        for b in bytes where b >= 0x80 || b == UInt8(ascii: "\"") || b == 0 { return nil }
        var header: [String]?
        var targetIndex = 0, columns = 0
        var features: [Float] = [], targets: [String] = [], lines: [Int] = []
        var fieldStarts: [Int] = [], fieldEnds: [Int] = []
        var lineNumber = 0, start = 0
        let count = bytes.count
        while start <= count {
            // One line: up to LF, VT, FF or CR (CR LF counts once), as Character.isNewline splits.
            var end = start
            while end < count, !(bytes[end] >= lf && bytes[end] <= cr) { end += 1 }
            lineNumber += 1
            let next = end < count && bytes[end] == cr && end + 1 < count && bytes[end + 1] == lf ? end + 2 : end + 1
            defer { start = next }
            if (start..<end).allSatisfy({ bytes[$0] == space || bytes[$0] == tab }) { continue }
            // Fields between commas, trimmed of spaces and tabs.
            fieldStarts.removeAll(keepingCapacity: true)
            fieldEnds.removeAll(keepingCapacity: true)
            var fieldStart = start
            for i in start...end where i == end || bytes[i] == comma {
                var a = fieldStart, b = i
                while a < b, bytes[a] == space || bytes[a] == tab { a += 1 }
                while b > a, bytes[b - 1] == space || bytes[b - 1] == tab { b -= 1 }
                fieldStarts.append(a)
                fieldEnds.append(b)
                fieldStart = i + 1
            }
            func text(_ k: Int) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: bytes[fieldStarts[k]..<fieldEnds[k]]), as: UTF8.self)
            }
            guard header != nil else {
                let names = (0..<fieldStarts.count).map(text)
                // What the full reader refuses about a header is its to say.
                guard names.count >= 2, Set(names).count == names.count, !names.contains("") else { return nil }
                if let target {
                    guard let i = names.firstIndex(of: target) else { return nil }
                    targetIndex = i
                } else {
                    targetIndex = names.count - 1
                }
                header = names
                columns = names.count
                continue
            }
            guard fieldStarts.count == columns else { return nil }
            for k in 0..<columns where k != targetIndex {
                guard fieldEnds[k] > fieldStarts[k], let value = number(UnsafeBufferPointer(rebasing: bytes[fieldStarts[k]..<fieldEnds[k]])),
                      value.isFinite else { return nil }
                features.append(value)
            }
            guard fieldEnds[targetIndex] > fieldStarts[targetIndex] else { return nil }
            targets.append(text(targetIndex))
            lines.append(lineNumber)
        }
        guard let header, !lines.isEmpty else { return nil }
        return CSVFastPath(header: header, features: features, targets: targets, lines: lines)
    }

    /// `Float(String)` of the field, refusing what the full reader refuses (hexadecimal).
    private static func number(_ field: UnsafeBufferPointer<UInt8>) -> Float? {
        if field.contains(UInt8(ascii: "x")) || field.contains(UInt8(ascii: "X")) { return nil }
        return Float(String(decoding: field, as: UTF8.self))
    }
}
