import Foundation

/// The checkpoint a resumed run continues from, found as `lockstep train --resume` finds it: the
/// newest run folder (`run-N`) of the checkpoint directory that holds a checkpoint, and in it the
/// newest checkpoint that reads back whole. An unreadable newer one (a truncated file) is skipped
/// with a warning, never deleted (the resumed run writes that step's checkpoint again when it
/// gets there).
///
/// ```swift
/// let point = try ResumePoint.newest(in: "checkpoints")
/// for warning in point.warnings { print("warning:", warning) }
/// options.resume = point.checkpoint
/// ```
public struct ResumePoint: Sendable {
    /// The checkpoint file's path.
    public var path: String
    /// The checkpoint, read and validated.
    public var checkpoint: Checkpoint
    /// Newer checkpoints that could not be read, and why.
    public var warnings: [String]

    /// The newest readable checkpoint of the newest run in `root` that has any; checkpoints
    /// written directly into `root` (by earlier Lockstep versions) count as the oldest run.
    public static func newest(in root: String) throws -> ResumePoint {
        if let missing = MissingFile.reason(root, absentIsFine: true) {
            throw FileError(path: root, "no checkpoint directory to resume from: \(missing)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileError(path: root, "no checkpoint directory to resume from")
        }
        if let reason = MissingFile.unlistable(root) { throw FileError(path: root, reason) }
        for run in RunDirectory.runs(in: root) + [root] {
            // A run folder that cannot be listed looked empty, and the resume said "no checkpoint".
            if let reason = MissingFile.unlistable(run) { throw FileError(path: run, reason) }
            if !Checkpoint.files(in: run).isEmpty { return try newestReadable(in: run) }
        }
        throw FileError(path: root, "no checkpoint to resume from")
    }

    /// `path` names a checkpoint file, or a run folder whose newest readable checkpoint is taken.
    public static func named(_ path: String) throws -> ResumePoint {
        if let missing = MissingFile.reason(path) { throw FileError(path: path, missing) }
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            if let reason = MissingFile.unlistable(path) { throw FileError(path: path, reason) }
            guard !Checkpoint.files(in: path).isEmpty else { throw FileError(path: path, "no checkpoint to resume from") }
            return try newestReadable(in: path)
        }
        return ResumePoint(path: path, checkpoint: try Checkpoint.read(at: path), warnings: [])
    }

    private static func newestReadable(in directory: String) throws -> ResumePoint {
        var warnings: [String] = []
        var firstError: (any Error)?
        for file in Checkpoint.files(in: directory).reversed() {
            do {
                let checkpoint = try Checkpoint.read(at: file)
                if !warnings.isEmpty { warnings.append("the newest readable checkpoint is \(file)") }
                return ResumePoint(path: file, checkpoint: checkpoint, warnings: warnings)
            } catch {
                let error = (error as? FileError).map(Checkpoint.asDamaged) ?? error
                firstError = firstError ?? error
                warnings.append("\(error) (skipped)")
            }
        }
        throw FileError(path: directory, "no readable checkpoint: \(firstError.map { "\($0)" } ?? "none")")
    }

    /// The run folder this checkpoint belongs to (`…/run-N`), which a resumed run continues, or
    /// nil for a checkpoint elsewhere.
    public var runDirectory: String? {
        let directory = PathText.parent(of: path)
        return RunDirectory.runNumber(directory) != nil ? directory : nil
    }
}
