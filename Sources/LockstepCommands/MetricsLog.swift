import Foundation
import Lockstep

/// The `--metrics` file: JSON Lines, one object per evaluation, `"event":"resumed"` when a run
/// continues, and a last object with `"event":"done"` (or `"interrupted"`).
final class MetricsLog: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let lock = NSLock()

    /// Creates (or truncates) the file, or appends to it when `append` (a resumed run). A FIFO or
    /// device is written through; `-` is standard output.
    init(path: String, append: Bool) throws {
        self.path = path
        switch try OutputTarget(path) {
        case .standardOutput:
            fd = STDOUT_FILENO
            ownsDescriptor = false
            return
        case let .stream(resolved):
            fd = try AtomicFile.openStream(resolved, shownAs: path)
        case let .regular(resolved):
            fd = open(resolved, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        }
        guard fd >= 0 else { throw FileError(path: path, "cannot open the metrics file: \(String(cString: strerror(errno)))") }
        ownsDescriptor = true
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Appends one JSON line; a failed write (a full disk) throws, naming the file.
    func write(_ object: [String: Any]) throws {
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(UInt8(ascii: "\n"))
        try lock.withLock { try AtomicFile.writeAll(fd, data, path: path) }
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
