#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writes files so that a crash never leaves a half-written one: the bytes go to a temporary
/// file in the same directory, which is flushed to disk, renamed over the destination, and the
/// directory flushed too.
public enum AtomicFile {
    /// Writes `data` to `path` atomically. On failure nothing at `path` has changed.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, "cannot create a file in \(directory): \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw FileError(path: path, "write failed: \(reason)")
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FileError(path: path, "flush failed: \(reason)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw FileError(path: path, "rename failed: \(String(cString: strerror(errno)))") }
        ok = true
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

/// A file that cannot be read, parsed or written, named with the problem.
public struct FileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}
