#if canImport(Glibc)
import Glibc
#endif

/// What identifies a regular file's contents cheaply: its device, inode, size and modification
/// time. Two reads of a path that see the same stamp read the same file, not one replaced or
/// written to in between (to the file system's time resolution).
///
/// ```swift
/// let stamp = FileStamp(path: "iris.csv")            // before reading the file
/// let data = try Dataset.read(at: "iris.csv")
/// let hash = try Dataset.fileHash(at: "iris.csv", unchangedSince: stamp)
/// ```
public struct FileStamp: Equatable, Sendable {
    let device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int

    /// The stamp of the regular file at `path` now; nil for a missing file or anything else (a
    /// pipe, a device), whose contents no stamp describes.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    init?(_ info: stat) {
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        seconds = Int(info.st_mtim.tv_sec)
        nanoseconds = Int(info.st_mtim.tv_nsec)
    }
}
