/// A path's folder and last component, as text. Foundation's `NSString.deletingLastPathComponent`
/// traps on a one-character path on Linux (swift-corelibs-foundation): `--save m` crashed with an
/// illegal instruction before this. (Package-internal: the library's and the command's files.)
package enum PathText {
    /// The folder part: "a/b/c" → "a/b", "a/b/" → "a", "a//b" → "a", "/c" → "/", "/" → "/",
    /// "c" and "" → "" (the current folder).
    package static func parent(of path: String) -> String {
        let slash = UInt8(ascii: "/")
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == slash { bytes.removeLast() }
        guard let last = bytes.lastIndex(of: slash) else { return "" }
        var end = last
        while end > 0, bytes[end - 1] == slash { end -= 1 }
        return end == 0 ? "/" : String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// The last component: "a/b/c" → "c", "a/b/" → "b", "/" → "/", "c" → "c".
    package static func lastComponent(of path: String) -> String {
        let slash = UInt8(ascii: "/")
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == slash { bytes.removeLast() }
        if bytes == [slash] { return "/" }
        let start = bytes.lastIndex(of: slash).map { $0 + 1 } ?? 0
        return String(decoding: bytes[start...], as: UTF8.self)
    }

    /// `name` inside `folder`: "runs" + "c" → "runs/c", "runs/" and "runs//" + "c" → "runs/c" (a
    /// folder the user typed with its slash printed "runs//c"), "/" + "c" → "/c", "" + "c" → "c".
    package static func joined(_ folder: String, _ name: String) -> String {
        if folder.isEmpty { return name }
        var end = folder.endIndex
        while end > folder.startIndex, folder[folder.index(before: end)] == "/" { end = folder.index(before: end) }
        return String(folder[..<end]) + "/" + name
    }

    /// `path` as an error line shows it: '' for an empty one, control characters escaped ("a\nb" → "a\\nb"), so that a
    /// name with a newline in it still gives one line.
    package static func printable(_ path: String) -> String {
        if path.isEmpty { return "''" }   // "error: '': an empty file name", not "error: : …"
        guard path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return path }
        return String(path.unicodeScalars.map { scalar -> String in
            switch scalar {
            case "\n": return "\\n"
            case "\t": return "\\t"
            case "\r": return "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: return "\\u{" + String(scalar.value, radix: 16) + "}"
            default: return String(scalar)
            }
        }.joined())
    }
}
