import Foundation
import Lockstep

/// The `--metrics` file: JSON Lines, one object per evaluation, `"event":"resumed"` when a run
/// continues, and a last object with `"event":"done"` (or `"interrupted"`).
final class MetricsLog: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// A regular file: a failed line is cut back off it (a FIFO or a terminal cannot be).
    private let regular: Bool
    private let lock = NSLock()

    /// Creates (or truncates) the file, or appends to it when `append` (a resumed run). A FIFO or
    /// device is written through; `-` is standard output.
    init(path: String, append: Bool) throws {
        self.path = path
        switch try OutputTarget(path) {
        case .standardOutput:
            fd = STDOUT_FILENO
            ownsDescriptor = false
            regular = false
            return
        case let .stream(resolved):
            fd = try AtomicFile.openStream(resolved, shownAs: path)
            regular = false
        case let .regular(resolved):
            fd = open(resolved, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
            regular = true
        }
        guard fd >= 0 else { throw FileError(path: path, "cannot open the metrics file: \(String(cString: strerror(errno)))") }
        ownsDescriptor = true
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Appends one JSON line; a failed write (a full disk, a file-size limit) throws, naming the
    /// file, and leaves the file as it was before the line: whole lines only.
    func write(_ object: [String: Any]) throws {
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(UInt8(ascii: "\n"))
        try lock.withLock {
            let before = regular ? lseek(fd, 0, SEEK_END) : -1
            do {
                try AtomicFile.writeAll(fd, data, path: path)
            } catch {
                if before >= 0 { _ = ftruncate(fd, before) }
                throw error
            }
        }
    }

    /// The object of one epoch's report.
    static func object(_ report: EpochReport) -> [String: Any] {
        var o: [String: Any] = [
            "epoch": report.epoch + 1, "step": report.step, "train_loss": Double(report.trainLoss),
            "samples_per_second": report.samplesPerSecond.rounded(), "elapsed_seconds": (report.elapsedSeconds * 1000).rounded() / 1000,
        ]
        for (prefix, metrics) in [("val", report.validation), ("test", report.test)] {
            if let m = metrics { o.merge(fields(prefix, m)) { $1 } }
        }
        return o
    }

    /// "test_loss", "test_accuracy" (or "test_r2", "test_mae", "test_rmse") of `m`.
    static func fields(_ prefix: String, _ m: Metrics) -> [String: Any] {
        var o: [String: Any] = [prefix + "_loss": Double(m.loss)]
        if let a = m.accuracy { o[prefix + "_accuracy"] = Double(a) }
        if let r2 = m.r2 { o[prefix + "_r2"] = Double(r2) }
        if let mae = m.mae { o[prefix + "_mae"] = Double(mae) }
        if let rmse = m.rmse { o[prefix + "_rmse"] = Double(rmse) }
        return o
    }
}
