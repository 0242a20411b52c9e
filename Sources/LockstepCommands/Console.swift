import Foundation
import Lockstep

/// Where the command's words go: the six stage lines on standard output (nothing but errors with
/// `--quiet`), a progress bar redrawn in place when standard output is a terminal, errors on
/// standard error. Safe to call from the training threads. Every write is checked: the first
/// failure (standard output on a full disk) is kept in `failure`, for the command to report.
final class Console: @unchecked Sendable {
    let quiet: Bool
    let isTerminal: Bool
    private let lock = NSLock()
    private var barShown = false
    private var firstFailure: FileError?

    /// `plain`: no redrawn progress line even on a terminal (under mpirun, standard output is a
    /// terminal of mpirun's even when mpirun's own output goes to a file).
    init(quiet: Bool, plain: Bool = false) {
        self.quiet = quiet
        isTerminal = !plain && isatty(STDOUT_FILENO) != 0
    }

    /// A stage line: "[4/6] Training   …".
    func stage(_ number: Int, _ name: String, _ text: String) {
        line("[\(number)/6] " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + text)
    }

    /// A line under the current stage, indented to its text.
    func detail(_ text: String) { line(String(repeating: " ", count: 17) + text) }

    func line(_ text: String) {
        guard !quiet else { return }
        lock.withLock {
            if barShown { emit("\n"); barShown = false }
            emit(text + "\n")
        }
    }

    /// Redraws the progress line in place (terminals only), cut to the terminal's width: a line
    /// that wrapped could not be redrawn, and would leave its tail on the screen.
    func progress(_ text: String) {
        guard !quiet, isTerminal else { return }
        let fitting = String(text.prefix(max(Console.terminalColumns() - 1, 10)))
        lock.withLock {
            emit("\r\u{1B}[2K" + fitting)
            barShown = true
        }
    }

    /// The terminal's width in columns (80 when standard output does not say).
    static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Ends an in-place progress line.
    func endProgress() {
        lock.withLock {
            if barShown { emit("\n"); barShown = false }
        }
    }

    /// The first failed write to standard output, if any.
    var failure: FileError? { lock.withLock { firstFailure } }

    /// Throws the first failed write, for a command to end with.
    func checkWrites() throws { if let failure { throw failure } }

    /// Writes to standard output (the lock held); after a failure, writes nothing more.
    private func emit(_ text: String) {
        guard firstFailure == nil else { return }
        do { try AtomicFile.writeAll(STDOUT_FILENO, Data(text.utf8), path: "standard output") } catch let error as FileError {
            firstFailure = error
        } catch {}
    }

    /// Writes a command's result (predictions, metrics) to standard output, checked.
    static func output(_ text: String) throws {
        try AtomicFile.writeAll(STDOUT_FILENO, Data(text.utf8), path: "standard output")
    }

    static func error(_ text: String) {
        try? AtomicFile.writeAll(STDERR_FILENO, Data((text + "\n").utf8), path: "standard error")
    }

    /// "████████░░".
    static func bar(_ fraction: Double, width: Int = 10) -> String {
        let filled = max(0, min(width, Int((fraction * Double(width)).rounded(.down))))
        return String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    }

    /// "2.1 KB", "3.4 MB".
    static func size(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes) B" }
        if bytes < 1_000_000 { return String(format: "%.1f KB", Double(bytes) / 1000) }
        return String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    /// "45k", "1.2M".
    static func count(_ x: Double) -> String {
        if x >= 1e6 { return String(format: "%.1fM", x / 1e6) }
        if x >= 1e4 { return String(format: "%.0fk", x / 1e3) }
        return String(format: "%.0f", x)
    }

    /// "4.2", "0.0912": four significant digits.
    static func number(_ x: Float) -> String { String(format: "%.4g", Double(x)) }
}
