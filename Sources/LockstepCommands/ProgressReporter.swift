import Foundation
import Lockstep

/// Turns training events into the progress bar (terminal) or one line per tenth of the run
/// (anything else), and into metrics-file lines.
final class ProgressReporter: @unchecked Sendable {
    let console: Console
    let epochs: Int
    let log: MetricsLog?
    /// Called once when a metrics write fails: the run stops (its checkpoint is kept).
    let onWriteFailure: @Sendable () -> Void
    private var writeFailure: (any Error)?
    private let lock = NSLock()
    private var lastLoss: Float?
    private var samplesPerSecond: Double = 0
    private let started = Date()

    init(console: Console, epochs: Int, log: MetricsLog?, onWriteFailure: @escaping @Sendable () -> Void) {
        self.onWriteFailure = onWriteFailure
        self.console = console
        self.epochs = epochs
        self.log = log
    }

    /// Throws the first failed metrics write.
    func checkWrites() throws { if let failure = lock.withLock({ writeFailure }) { throw failure } }

    func handle(_ event: TrainingEvent) {
        switch event {
        case let .stepEnded(epoch, step, stepsPerEpoch):
            guard console.isTerminal, step % max(stepsPerEpoch / 4, 1) == 0 || step % stepsPerEpoch == 0 else { return }
            let done = Double(epoch) + Double((step - 1) % stepsPerEpoch + 1) / Double(stepsPerEpoch)
            let elapsed = Date().timeIntervalSince(started)
            let eta = done > 0 ? elapsed / done * (Double(epochs) - done) : 0
            let (loss, rate) = lock.withLock { (lastLoss, samplesPerSecond) }
            // Figures appear once an epoch has measured them: no "0 samples/s" first frame.
            var text = "\(Console.bar(done / Double(epochs))) epoch \(epoch + 1)/\(epochs)"
            if let loss { text += " · loss \(Console.number(loss))" }
            if rate > 0 { text += " · \(Console.count(rate)) samples/s · ETA \(Int(eta.rounded()))s" }
            console.progress(String(repeating: " ", count: 17) + text)
        case let .epochEnded(report):
            lock.withLock {
                lastLoss = report.trainLoss
                samplesPerSecond = report.samplesPerSecond
            }
            do { try log?.write(MetricsLog.object(report)) } catch {
                let first = lock.withLock { () -> Bool in
                    defer { if writeFailure == nil { writeFailure = error } }
                    return writeFailure == nil
                }
                if first { onWriteFailure() }
            }
            let every = max(epochs / 10, 1)
            if !console.isTerminal, (report.epoch + 1) % every == 0 || report.epoch + 1 == epochs {
                var line = "epoch \(report.epoch + 1)/\(epochs) · train loss \(Console.number(report.trainLoss))"
                if let v = report.validation { line += " · validation " + describe(v) }
                if let t = report.test { line += " · test " + describe(t) }
                console.detail(line + " · \(Console.count(report.samplesPerSecond)) samples/s")
            }
        case .checkpointSaved, .stepLoss:
            break
        case let .warning(text):
            console.detail("warning: " + text)
        }
    }
}
