import Foundation
@testable import Lockstep

/// Processes of a job simulated inside one process: each "process" is a trainer on threads of
/// its own, and this network carries their messages (copied into per-pair FIFO queues, so a send
/// never waits). What the MPI transport does over sockets, without MPI: the tests of the
/// cross-process collectives run in every build.
final class LoopbackNetwork: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var queues: [[[UInt8]]]
    private var broken: String?

    init(processes: Int) {
        count = processes
        queues = Array(repeating: [], count: processes * processes)
    }

    func transport(_ process: Int) -> LoopbackTransport { LoopbackTransport(network: self, process: process) }

    /// Ends the job: every waiting and later receive throws (what MPI_Abort does to the others).
    func abort(_ reason: String) {
        condition.lock()
        broken = broken ?? reason
        condition.broadcast()
        condition.unlock()
    }

    fileprivate func exchange(_ me: Int, sends: [(UnsafeRawBufferPointer, to: Int)],
                              receives: [(UnsafeMutableRawBufferPointer, from: Int)], cancelled: () -> Bool) throws {
        condition.lock()
        defer { condition.unlock() }
        for (bytes, to) in sends { queues[me * count + to].append(Array(bytes)) }
        condition.broadcast()
        for (bytes, from) in receives {
            let q = from * count + me
            while queues[q].isEmpty {
                if let broken { throw WorkerAborted(reason: broken) }
                if cancelled() { throw WorkerAborted(reason: "this process's ranks failed") }
                _ = condition.wait(until: Date().addingTimeInterval(0.01))
            }
            let message = queues[q].removeFirst()
            guard message.count == bytes.count else {
                throw WorkerAborted(reason: "process \(me) expected \(bytes.count) bytes from process \(from), got \(message.count)")
            }
            message.withUnsafeBytes { if $0.count > 0 { bytes.copyMemory(from: $0) } }
        }
    }

    /// Runs `body(process)` for every process at once, each on a thread of its own; the first
    /// failure aborts the network (so no process waits for a failed one) and every process's
    /// outcome comes back.
    func run<T>(_ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let results = Locked<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
        let threads = (0..<count).map { p in
            Thread {
                let result = Result { try body(p) }
                if case let .failure(error) = result { self.abort("process \(p) failed: \(error)") }
                results.withLock { $0[p] = result }
            }
        }
        threads.forEach { $0.stackSize = 8 << 20; $0.start() }
        while results.withLock({ $0.contains { $0 == nil } }) { usleep(1000) }
        return results.withLock { $0.map { $0! } }
    }
}

final class LoopbackTransport: ProcessTransport, @unchecked Sendable {
    let network: LoopbackNetwork
    let process: Int
    var processCount: Int { network.count }
    var hostName: String { "loopback\(process)" }

    init(network: LoopbackNetwork, process: Int) {
        self.network = network
        self.process = process
    }

    func exchange(sends: [(UnsafeRawBufferPointer, to: Int)], receives: [(UnsafeMutableRawBufferPointer, from: Int)],
                  cancelled: () -> Bool) throws {
        try network.exchange(process, sends: sends, receives: receives, cancelled: cancelled)
    }
}
