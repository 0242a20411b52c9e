import CFileGuard
import Foundation

/// A data file's bytes, read-only and memory-mapped (no copy of a 200 MB CSV on the heap), or read
/// into memory where the file system cannot map it. Only regular files: a data file is read more
/// than once (its fingerprint, then its rows), which a named pipe or a terminal cannot give, and
/// opening a pipe that no process writes to waited for ever.
///
/// Readers that pass over the bytes once hand back what they have read with `release(upTo:)`:
/// the pages leave the process's resident memory (they stay in the page cache, and a later
/// access maps them again), so reading a file costs about the memory of what is made of it.
///
/// A mapped file that another process truncates while it is read would end the process with
/// SIGBUS; while the mapping lives, `CFileGuard` turns that into one line naming the file and
/// exit status 74.
final class MappedFile: @unchecked Sendable {
    /// The file's bytes; valid while this object lives.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The stamp of the file that was mapped, taken from the open file (nil when it was read).
    let stamp: FileStamp?
    private let mapping: UnsafeMutableRawPointer?
    private var guardSlot: Int32 = -1

    /// Maps the file at `path`, or reads it when it cannot be mapped; an error names the file.
    init(path: String) throws {
        if let missing = MissingFile.reason(path) { throw DataError(file: path, missing) }
        // Not blocking: a named pipe opens at once (and is refused below) instead of waiting for a writer.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw DataError(file: path, "cannot be read: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            let type = info.st_mode & S_IFMT
            close(fd)
            throw DataError(file: path, type == S_IFDIR ? "a directory, not a data file"
                            : type == S_IFIFO ? "a named pipe: a data file is read more than once, so it must be a regular file"
                            : "not a regular file (a device or a socket): a data file must be one")
        }
        if info.st_size > 0, let address = mmap(nil, Int(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED {
            close(fd)
            madvise(address, Int(info.st_size), MADV_SEQUENTIAL)
            stamp = FileStamp(info)
            mapping = address
            bytes = UnsafeBufferPointer(start: address.assumingMemoryBound(to: UInt8.self), count: Int(info.st_size))
            guardSlot = lockstep_guard_mapping(address, Int(info.st_size), path)
            return
        }
        close(fd)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            let reason = MissingFile.reason(path) ?? "cannot be read"
            throw DataError(file: path, reason)
        }
        mapping = nil
        stamp = nil
        let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(data.count, 1))
        _ = data.copyBytes(to: copy)
        bytes = UnsafeBufferPointer(start: copy.baseAddress, count: data.count)
    }

    deinit {
        if let mapping {
            lockstep_unguard_mapping(guardSlot)
            munmap(mapping, bytes.count)
        } else { UnsafeMutableBufferPointer(mutating: bytes).deallocate() }
    }

    /// Drops the whole pages of `range` from resident memory (a mapped file only; the bytes read
    /// the same afterwards).
    func release(_ range: Range<Int>) {
        guard mapping != nil, let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (range.lowerBound + page - 1) / page * page
        let last = range.upperBound / page * page
        guard last > first else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED)
    }

    /// The hash of the file's bytes, read in blocks that are released as they are hashed.
    func hash<H: ContentHash>(_: H.Type) -> H {
        var hash = H()
        let block = 8 << 20
        var start = 0
        while start < bytes.count {
            let end = min(start + block, bytes.count)
            hash.update(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<end])))
            release(start..<end)
            start = end
        }
        return hash
    }
}
