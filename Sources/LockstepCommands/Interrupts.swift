import Dispatch
import Foundation

/// Maps SIGINT and SIGTERM onto a stop: the first asks training to stop after the current step
/// and write its checkpoint, and the command then exits 128 + the signal (130, 143). A second
/// signal does not cut the checkpoint short: it says so, and the run ends as soon as the
/// checkpoint is safe. Listening starts at once, so a signal during set-up is kept and stops the
/// run at its first step.
final class Interrupts: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let lock = NSLock()
    private var first: Int32?
    private var count = 0
    private var stop: (@Sendable () -> Void)?

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in handle(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// What to run on the first signal; runs at once if one already came.
    func onStop(_ body: @escaping @Sendable () -> Void) {
        let pending = lock.withLock { () -> Bool in
            stop = body
            return first != nil
        }
        if pending { body() }
    }

    /// The first signal received, if any.
    var received: Int32? { lock.withLock { first } }

    private func handle(_ number: Int32) {
        let (n, body) = lock.withLock { () -> (Int, (@Sendable () -> Void)?) in
            count += 1
            if first == nil { first = number }
            return (count, stop)
        }
        if n == 1 {
            body?()
        } else {
            Console.error("already stopping: the run ends after the current step, once its checkpoint is safe")
        }
    }

    deinit {
        sources.forEach { $0.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
