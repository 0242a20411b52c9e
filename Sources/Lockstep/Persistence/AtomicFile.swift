#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writes files so that a crash never leaves a half-written one: the bytes go to a temporary
/// file in the same directory, which is flushed to disk, renamed over the destination, and the
/// directory flushed too.
///
/// Only regular files are ever replaced. A symbolic link is followed (the file it points to is
/// replaced, the link stays); a character device or FIFO (`/dev/null`, a named pipe) is written
/// through, never renamed over; `-` is standard output; a directory, block device or socket is
/// refused.
///
/// ```swift
/// try AtomicFile.write(Data("hello\n".utf8), to: "notes.txt")
/// ```
public enum AtomicFile {
    /// Writes `data` to `path`. On failure nothing at `path` has changed (for a regular file).
    public static func write(_ data: Data, to path: String) throws {
        switch try OutputTarget(path) {
        case .standardOutput:
            try writeAll(STDOUT_FILENO, data, path: "standard output")
        case let .stream(resolved):
            let fd = try openStream(resolved, shownAs: path)
            defer { close(fd) }
            try writeAll(fd, data, path: path)
        case let .regular(resolved):
            try replace(resolved, with: data, shownAs: path)
        }
    }

    private static func replace(_ path: String, with data: Data, shownAs shown: String) throws {
        let parent = PathText.parent(of: path), directory = parent.isEmpty ? "." : parent
        let temporary = directory + "/." + PathText.lastComponent(of: path) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: shown, "cannot create a file in \(directory): \(errnoText())") }
        var ok = false
        defer { if !ok { unlink(temporary) } }
        do {
            try writeAll(fd, data, path: shown)
        } catch {
            close(fd)
            throw error
        }
        guard fsync(fd) == 0 else {
            let reason = errnoText()
            close(fd)
            throw FileError(path: shown, "flush failed: \(reason)")
        }
        guard close(fd) == 0 else { throw FileError(path: shown, "write failed: \(errnoText())") }
        guard rename(temporary, path) == 0 else { throw FileError(path: shown, "rename failed: \(errnoText())") }
        ok = true
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// Opens a device or FIFO for writing without waiting: a named pipe that no process reads
    /// is an error, not a hang no signal can end.
    public static func openStream(_ path: String, shownAs shown: String, flags: Int32 = 0) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK | flags)
        guard fd >= 0 else {
            if errno == ENXIO { throw FileError(path: shown, "a named pipe that no process is reading") }
            throw FileError(path: shown, "cannot open for writing: \(errnoText())")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Writes every byte of `data` to `fd`, retrying short writes and EINTR; a failed write
    /// (a full disk, a closed pipe) throws naming `path`.
    public static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(path: path, "write failed: \(errnoText())")
                }
                offset += n
            }
        }
    }
}

/// What an output path names, and so how it is written.
public enum OutputTarget: Equatable, Sendable {
    /// `-`.
    case standardOutput
    /// A character device or FIFO: written through in place.
    case stream(String)
    /// A regular file or a new name (links resolved): replaced atomically.
    case regular(String)

    /// Classifies `path`, refusing what can never be an output: a directory, a block device, a
    /// socket, a missing or unwritable parent directory.
    public init(_ path: String) throws {
        if path == "-" { self = .standardOutput; return }
        guard !path.isEmpty else { throw FileError(path: path, "an empty file name") }
        guard !path.hasSuffix("/") else { throw FileError(path: path, "ends in '/': that names a directory, not a file") }
        var st = stat()
        if lstat(path, &st) == 0 {
            var resolved = path
            if (st.st_mode & S_IFMT) == S_IFLNK {
                guard let real = realpath(path, nil) else {
                    // A dangling link: the file it names is to be created.
                    throw FileError(path: path, "a symbolic link to a file that does not exist; give the target's path instead")
                }
                resolved = String(cString: real)
                free(real)
                guard stat(resolved, &st) == 0 else { throw FileError(path: path, "cannot be examined: \(errnoText())") }
            }
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                try Self.checkDirectory(of: resolved, shownAs: path)
                guard access(resolved, W_OK) == 0 else { throw FileError(path: path, "cannot be written: \(errnoText())") }
                self = .regular(resolved)
            case S_IFCHR, S_IFIFO: self = .stream(resolved)
            case S_IFDIR: throw FileError(path: path, "is a directory, not a file")
            case S_IFBLK: throw FileError(path: path, "is a block device; Lockstep never writes to one")
            default: throw FileError(path: path, "is not a regular file, device or pipe")
            }
            return
        }
        guard errno == ENOENT else { throw FileError(path: path, "cannot be examined: \(errnoText())") }
        try Self.checkDirectory(of: path, shownAs: path)
        self = .regular(path)
    }

    private static func checkDirectory(of path: String, shownAs shown: String) throws {
        // As the kernel will resolve it: "a/../b" needs "a" to exist.
        let parent = PathText.parent(of: path)
        let directory = parent.isEmpty ? "." : parent
        var st = stat()
        guard stat(directory, &st) == 0 else {
            throw FileError(path: shown, "the directory \(directory) does not exist")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw FileError(path: shown, "\(directory) is not a directory") }
        guard access(directory, W_OK) == 0 else {
            throw FileError(path: shown, "cannot write in \(directory): \(errnoText())")
        }
    }
}

/// A file that cannot be read, parsed or written, named with the problem.
public struct FileError: Error, Equatable, CustomStringConvertible {
    /// The file's path, as the user gave it.
    public var path: String
    /// What is wrong with it.
    public var message: String
    /// An error about the file at `path`.
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(PathText.printable(path)): \(message)" }
}

/// The text of the current `errno`.
func errnoText() -> String { String(cString: strerror(errno)) }
