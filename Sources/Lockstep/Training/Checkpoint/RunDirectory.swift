#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A run's own checkpoint folder, `ROOT/run-N` (as PyTorch Lightning's `version_N`), locked with
/// `flock` for the run's lifetime: earlier runs' files are never in the way, and two processes
/// never write into one run. The lock file `.lock` holds the holder's process id, so a second
/// run can say who is using the folder. The lock goes when the process does, even on SIGKILL.
///
/// ```swift
/// let run = try RunDirectory.create(in: "checkpoints")     // checkpoints/run-0, locked
/// options.checkpoints = CheckpointPolicy(run: run)            // or let fit make one: CheckpointPolicy(directory:)
/// ```
public final class RunDirectory: @unchecked Sendable {
    /// `ROOT/run-N`.
    public let path: String
    private var lockFD: Int32
    /// The checkpoint directory, when this run created it (and so may remove it, if left empty).
    private var createdRoot: String?

    private init(path: String, lockFD: Int32) {
        self.path = path
        self.lockFD = lockFD
    }

    deinit { unlock() }

    /// Throws unless `root` exists as a writable directory or can be created: checked before a
    /// run touches any file.
    public static func checkCreatable(_ root: String) throws {
        // A missing folder is created; a loop of links, a dangling link or a path through a file cannot be.
        if !root.isEmpty, let missing = MissingFile.reason(root, absentIsFine: true) {
            throw FileError(path: root, "cannot hold the checkpoints: \(missing)")
        }
        var st = stat()
        var probe = root.isEmpty ? "." : root
        while stat(probe, &st) != 0 {
            guard errno == ENOENT else { throw FileError(path: root, "cannot be examined: \(errnoText())") }
            let parent = PathText.parent(of: probe)
            probe = parent.isEmpty ? "." : parent
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw FileError(path: root, "\(probe) is not a directory, so the checkpoint directory cannot be there")
        }
        guard access(probe, W_OK | X_OK) == 0 else {
            throw FileError(path: root, "cannot create checkpoints in \(probe): \(errnoText())")
        }
    }

    /// Creates `root` if needed and the next `run-N` in it, and locks it.
    public static func create(in root: String) throws -> RunDirectory {
        try checkCreatable(root)
        var isDirectory: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory)
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: root, "cannot create the checkpoint directory: \(errnoText())")
        }
        var number = (runs(in: root).first.flatMap(runNumber) ?? -1) + 1
        while true {
            let path = (root as NSString).appendingPathComponent("run-\(number)")
            if mkdir(path, 0o755) == 0 {
                do {
                    let run = try lock(path)
                    run.createdRoot = existed ? nil : root
                    return run
                } catch {
                    unlink(path + "/.lock")
                    rmdir(path)
                    if !existed { rmdir(root) }
                    throw error
                }
            }
            guard errno == EEXIST else { throw FileError(path: path, "cannot create the run's directory: \(errnoText())") }
            number += 1   // another run took this number a moment ago
        }
    }

    /// Locks an existing run folder to continue it; throws, naming the process, while another holds it.
    /// A folder the run cannot write in is refused here, before any epoch trains for checkpoints
    /// that could not be written.
    public static func open(_ path: String) throws -> RunDirectory {
        guard access(path, W_OK | X_OK) == 0 else { throw FileError(path: path, "cannot write checkpoints in it: \(errnoText())") }
        return try lock(path)
    }

    /// Run folders in `root`, newest (highest N) first.
    public static func runs(in root: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.compactMap { name in runNumber(name).map { ($0, name) } }
            .sorted { $0.0 > $1.0 }
            .map { (root as NSString).appendingPathComponent($0.1) }
    }

    /// N of a `run-N` name or path.
    public static func runNumber(_ path: String) -> Int? {
        let name = PathText.lastComponent(of: path)
        guard name.hasPrefix("run-"), let n = Int(name.dropFirst(4)), n >= 0, String(n) == name.dropFirst(4) else { return nil }
        return n
    }

    /// Releases the lock; when the run wrote nothing into its folder, removes the folder too
    /// (it made both). Idempotent.
    public func close(removeIfEmpty: Bool) {
        guard lockFD >= 0 else { return }
        let others = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0 != ".lock" }
        if removeIfEmpty && others.isEmpty {
            unlink(path + "/.lock")
            rmdir(path)
            if let createdRoot { rmdir(createdRoot) }   // only if empty
        }
        unlock()
    }

    private func unlock() {
        guard lockFD >= 0 else { return }
        flock(lockFD, LOCK_UN)
        Glibc.close(lockFD)
        lockFD = -1
    }

    /// Removes the temporary files (`.NAME.tmp-PID-N`) that a process of this run killed in the
    /// middle of a write left behind: the lock is held, so no live process of the run writes
    /// here, and a file whose process is gone is never renamed into place.
    private static func removeStaleTemporaries(in path: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name.hasPrefix(".checkpoint-") {
            guard let range = name.range(of: ".tmp-"),
                  let pid = Int32(name[range.upperBound...].prefix { $0 != "-" }), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(PathText.joined(path, name)) }
        }
    }

    /// Throws, naming the process, while another run holds the run folder at `path`; touches no
    /// file (its lock file is only read). A resume asks this first, so that a run in use is what
    /// it hears rather than what the checkpoint's other checks find.
    public static func checkFree(_ path: String) throws {
        let fd = Glibc.open(path + "/.lock", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }   // no lock file: no run holds the folder
        defer { Glibc.close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return }
        if errno == EWOULDBLOCK { throw inUse(path, lockFile: fd) }
    }

    /// The error for a run folder whose lock file `fd` another holder locks: the process id it wrote.
    private static func inUse(_ path: String, lockFile fd: Int32) -> FileError {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        let holder = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
        if holder == "\(getpid())" {
            return FileError(path: path, "already open in this process: a run folder can be open only once at a time")
        }
        return FileError(path: path, "in use by process \(holder) (another lockstep run); wait for it or choose another checkpoint directory")
    }

    private static func lock(_ path: String) throws -> RunDirectory {
        let file = path + "/.lock"
        let fd = Glibc.open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, "cannot lock the run's directory: \(errnoText())") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            defer { Glibc.close(fd) }
            guard busy else { throw FileError(path: path, "cannot lock the run's directory: \(errnoText())") }
            throw inUse(path, lockFile: fd)
        }
        removeStaleTemporaries(in: path)
        let pid = Data("\(getpid())\n".utf8)
        guard ftruncate(fd, 0) == 0, (try? AtomicFile.writeAll(fd, pid, path: file)) != nil else {
            let reason = errnoText()
            Glibc.close(fd)
            throw FileError(path: file, "cannot record the run's process id: \(reason)")
        }
        return RunDirectory(path: path, lockFD: fd)
    }
}

extension RunDirectory {
    /// Refuses an output inside one of the run folders (`run-N`) of the checkpoint directory
    /// `root`: those files belong to the runs (a checkpoint the run is about to write, its lock).
    public static func checkOutputs(outside root: String, outputs: [(String, String)]) throws {
        guard let realRoot = realpath(root, nil) else { return }   // no runs yet
        let rootPath = String(cString: realRoot)
        free(realRoot)
        for (flag, path) in outputs where path != "-" {
            let parent = PathText.parent(of: path)
            guard let real = realpath(parent.isEmpty ? "." : parent, nil) else { continue }
            let directory = String(cString: real)
            free(real)
            if runNumber(directory) != nil, PathText.parent(of: directory) == rootPath {
                throw ConfigurationError("\(flag) \(path) is inside the run folder \(parent), which holds the run's checkpoints; choose another place")
            }
        }
    }
}
