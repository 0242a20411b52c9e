#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The file a path names, compared through symbolic links, `..`, and hard links: two paths are
/// the same file when they reach the same device and inode, or (for a file still to be created)
/// the same name in the same real directory.
public enum FileIdentity: Hashable, Sendable {
    /// A file that exists, by device and inode.
    case existing(device: UInt64, inode: UInt64)
    /// A file still to be created, by its name in its directory's real path.
    case new(String)
    /// Standard output ("-") when it cannot be examined.
    case standardOutput

    /// The identity of `path` now; "-" means standard output.
    public init(_ path: String) {
        var st = stat()
        if path == "-" {
            // Whatever standard output is (a file, a pipe, a terminal): `--save /dev/stdout` is it too.
            self = fstat(STDOUT_FILENO, &st) == 0 ? .existing(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) : .standardOutput
            return
        }
        if stat(path, &st) == 0 {
            self = .existing(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            return
        }
        let parent = PathText.parent(of: path)
        var name = PathText.lastComponent(of: path)
        if let real = realpath(parent.isEmpty ? "." : parent, nil) {
            name = String(cString: real) + "/" + name
            free(real)
        } else {
            name = URL(fileURLWithPath: path).standardizedFileURL.path
        }
        self = .new(name)
    }

    /// Whether the path is a character device or FIFO, which several outputs may share.
    static func isStream(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let kind = st.st_mode & S_IFMT
        return kind == S_IFCHR || kind == S_IFIFO
    }

    /// Refuses, before anything is written, a command whose outputs overwrite one of its inputs
    /// or each other. `inputs` and `outputs` are (what it is, path), e.g. ("--data", "d.csv").
    ///
    /// ```swift
    /// try FileIdentity.checkDistinct(inputs: [("--data", "d.csv")], outputs: [("--save", "d.csv")])
    /// // throws: --save d.csv is the input file --data d.csv; choose another name
    /// ```
    public static func checkDistinct(inputs: [(String, String)], outputs: [(String, String)]) throws {
        let inputIDs = inputs.map { (flag: $0.0, path: $0.1, id: FileIdentity($0.1)) }
        var seen: [(flag: String, path: String, id: FileIdentity)] = []
        for (flag, path) in outputs {
            let id = FileIdentity(path)
            if let input = inputIDs.first(where: { $0.id == id }) {
                throw ConfigurationError("\(flag) \(path) is the input file \(input.flag) \(input.path); choose another name")
            }
            if let other = seen.first(where: { $0.id == id }), path == "-" || other.path == "-" || !isStream(path) {
                throw ConfigurationError("\(flag) \(path) and \(other.flag) \(other.path) are the same file; choose another name")
            }
            seen.append((flag, path, id))
        }
    }
}
