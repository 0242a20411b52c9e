import Dispatch
import Foundation

/// Maps SIGINT onto a stop: the first Ctrl-C asks training to stop after the current step (and
/// checkpoint); a second one exits at once with status 130.
final class Interrupts: @unchecked Sendable {
    private var source: (any DispatchSourceSignal)?
    private let lock = NSLock()
    private var count = 0

    /// Starts listening; `onFirst` runs on a background queue.
    init(onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in
            let n = lock.withLock { count += 1; return count }
            if n == 1 { onFirst() } else { exit(130) }
        }
        source.resume()
        self.source = source
    }

    /// Whether a SIGINT arrived.
    var interrupted: Bool { lock.withLock { count > 0 } }

    deinit {
        source?.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
