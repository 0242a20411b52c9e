import Dispatch
import Foundation

/// Maps SIGINT and SIGTERM onto a stop: the first asks training to stop after the current step
/// and write its checkpoint, and the command then exits 128 + the signal (130, 143). A second
/// signal does not cut the checkpoint short: it says so, and the run ends as soon as the
/// checkpoint is safe.
///
/// Before the run writes anything (`writingStarts()`), a signal ends the process at once with
/// the same status: set-up only reads, and it can wait for ever (a named pipe nobody writes to).
final class Interrupts: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let lock = NSLock()
    private var first: Int32?
    private var count = 0
    private var stop: (@Sendable () -> Void)?
    private var writing = false

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

    /// The run is about to create its first file: from now on a signal stops it (see above).
    func writingStarts() {
        lock.withLock { writing = true }
    }

    /// The first signal received, if any.
    var received: Int32? { lock.withLock { first } }

    private func handle(_ number: Int32) {
        lock.lock()
        count += 1
        if first == nil { first = number }
        if !writing {
            // Nothing written yet: end here, whatever the main thread waits for. _exit, not exit:
            // no destructor runs under a thread that still reads a mapped data file. The lock stays
            // taken, so that `writingStarts` cannot begin a run this exit would cut short. (The
            // console writes unbuffered: nothing waits in a buffer.)
            Console.error("interrupted during set-up (\(number == SIGINT ? "SIGINT" : "SIGTERM")): nothing was written")
            _exit(128 + number)
        }
        let (n, body) = (count, stop)
        lock.unlock()
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
