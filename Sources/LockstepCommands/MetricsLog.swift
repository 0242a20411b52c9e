import Foundation
import Lockstep

/// The `--metrics` file: JSON Lines, one object per evaluation, `"event":"resumed"` when a run
/// continues, and a last object with `"event":"done"` (or `"interrupted"`).
final class MetricsLog: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    /// Creates the file, or appends to it when `append` (a resumed run).
    init(path: String, append: Bool) throws {
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw FileError(path: path, "cannot create the metrics file")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw FileError(path: path, "cannot open the metrics file") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        lock.withLock {
            handle.write(data)
            handle.write(Data("\n".utf8))
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
