import Foundation
import Lockstep

/// One size of the collective benchmark: a gradient of `bytes` summed over every rank and handed
/// back to all (a reduce-scatter, then an all-gather: what a training step moves).
public struct CollectiveResult: Sendable, Codable, Equatable {
    public var bytes: Int
    /// Median seconds of one reduce-scatter + all-gather.
    public var seconds: Double
    /// bytes × 2(N−1)/N per second (NCCL's bus bandwidth for an all-reduce over N ranks).
    public var busBandwidthGBps: Double
}

/// Times the step's collectives alone, over sizes from latency-bound to bandwidth-bound, on
/// whatever the launcher spans: threads of one process, or processes (MPI) and their threads.
///
/// ```swift
/// let results = try CollectiveBenchmark.run(try ThreadLauncher(ranks: 2))
/// ```
public enum CollectiveBenchmark {
    public static let sizes = [4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20]

    /// `repetitions` timed rounds of each size after two untimed ones; rank 0's clock, each round
    /// started by a barrier (every rank's is the same within a barrier's wait).
    public static func run(_ launcher: any Launcher, sizes: [Int] = sizes, repetitions: Int = 7) throws -> [CollectiveResult] {
        let world = launcher.worldSize
        let times = TimesByRank()
        for bytes in sizes {
            try launcher.run { rank, communicator in
                let buffer = AlignedBuffer(count: bytes / 4)
                for i in 0..<buffer.count { buffer.base[i] = Float(rank + i % 7) }
                var rounds: [Double] = []
                for round in 0..<(repetitions + 2) {
                    try communicator.barrier()
                    let start = DispatchTime.now().uptimeNanoseconds
                    try communicator.reduceScatter(buffer.buffer)
                    try communicator.allGather(buffer.buffer)
                    if round >= 2 { rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
                }
                try communicator.barrier()   // others may still read this rank's buffer until they meet here
                if rank == 0 { times.set(bytes, rounds.sorted()[rounds.count / 2]) }
            }
        }
        return sizes.compactMap { bytes in
            times.get(bytes).map { CollectiveResult(bytes: bytes, seconds: $0, busBandwidthGBps: Double(bytes) * 2 * Double(world - 1) / Double(world) / $0 / 1e9) }
        }
    }

    /// The results as a table.
    public static func table(_ results: [CollectiveResult], title: String) -> String {
        var lines = [title, "     size   all-reduce    bus bandwidth"]
        for r in results {
            let size = r.bytes >= 1 << 20 ? "\(r.bytes >> 20) MB" : "\(r.bytes >> 10) KB"
            lines.append(size.leftPadded(9) + String(format: "%10.1f µs", r.seconds * 1e6) + String(format: "%12.2f GB/s", r.busBandwidthGBps))
        }
        return lines.joined(separator: "\n")
    }
}

private final class TimesByRank: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Double] = [:]
    func set(_ key: Int, _ value: Double) { lock.withLock { values[key] = value } }
    func get(_ key: Int) -> Double? { lock.withLock { values[key] } }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(width - count, 0)) + self }
}
