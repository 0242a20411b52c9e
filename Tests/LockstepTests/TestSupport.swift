import Foundation
import Testing
@testable import Lockstep

/// Path of a file in Tests/LockstepTests/Fixtures.
func fixture(_ name: String) -> String {
    Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
}

/// The folder that holds every test's scratch folder in this test process, removed when the
/// process exits: each test's own folder used to stay in /tmp, thousands of them a run.
let scratchRootPath = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-tests-\(getpid())").path
private let scratchRoot: URL = {
    atexit { try? FileManager.default.removeItem(atPath: scratchRootPath) }
    return URL(fileURLWithPath: scratchRootPath)
}()

/// The limit of a test that shows a failure stops every thread instead of hanging: a hang becomes
/// a failure of this test, not a stalled run. Not tighter: on two cores, under AddressSanitizer,
/// nine such tests that take about a second were failed at a one-minute limit, all reported at
/// once at 308 s into the run while long training tests ran — the limit counted time the test
/// spent waiting for a thread.
let hangLimit: TimeLimitTrait = .timeLimit(.minutes(10))

/// A fresh temporary directory for one test.
func temporaryDirectory() throws -> URL {
    let url = scratchRoot.appendingPathComponent("lockstep-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to a temporary file named `name` and returns its path.
func temporaryFile(_ name: String, _ text: String) throws -> String {
    let url = try temporaryDirectory().appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// ‖a − b‖ / ‖b‖.
func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, norm = 0.0
    for i in a.indices {
        diff += Double(a[i] - b[i]) * Double(a[i] - b[i])
        norm += Double(b[i]) * Double(b[i])
    }
    return (diff / max(norm, 1e-30)).squareRoot()
}

/// Raw bit patterns, to compare weights exactly.
func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// A tensor's rows as CSV for the Python checks, each row's values flattened, at full Float precision.
func csvRows(_ t: Tensor) -> String {
    let rows = t.shape[0], width = t.shape.count / max(rows, 1), values = t.scalars
    return (0..<rows).map { r in values[(r * width)..<((r + 1) * width)].map { "\($0)" }.joined(separator: ",") }
        .joined(separator: "\n") + "\n"
}

/// A topology with one node holding CPUs 0..<count (what a small CI machine looks like).
func flatTopology(_ count: Int = 2) -> Topology { Topology(nodes: [Array(0..<count)]) }

/// A value shared between threads behind an NSLock (pthread-based, so ThreadSanitizer sees it;
/// Synchronization.Mutex's futex is invisible to it).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
