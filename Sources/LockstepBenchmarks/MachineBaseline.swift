import Lockstep
import Foundation

/// What the machine itself can do, measured the same way on every run: single-threaded sgemm
/// alone and on two threads at once (the ceiling for two workers), and memcpy bandwidth.
public struct MachineBaseline: Sendable, Codable, Equatable {
    /// GFLOP/s of one single-threaded 1024³ sgemm.
    public var sgemmOneThread: Double
    /// Total GFLOP/s of two such sgemm calls on two threads at once.
    public var sgemmTwoThreads: Double
    /// Bytes read plus written per second by memcpy of 64 MiB, in GB/s, one thread.
    public var memcpyGBps: Double

    /// Two concurrent sgemm calls over one: the machine's own two-core scaling.
    public var twoCoreScaling: Double { sgemmTwoThreads / sgemmOneThread }

    public static func measure(repetitions: Int = 5) throws -> MachineBaseline {
        BLAS.useOneThreadPerCall()
        let n = 1024
        let flops = 2.0 * Double(n * n * n)
        @Sendable func sgemmSeconds(_ a: AlignedBuffer, _ b: AlignedBuffer, _ c: AlignedBuffer) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            BLAS.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, a: a.base, lda: n, b: b.base, ldb: n,
                      beta: 0, c: c.base, ldc: n)
            return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }
        let buffers = (0..<2).map { _ in (AlignedBuffer(count: n * n), AlignedBuffer(count: n * n), AlignedBuffer(count: n * n)) }
        for (a, b, _) in buffers { Kernels.fill(a.base, n * n, 0.5); Kernels.fill(b.base, n * n, 0.25) }
        _ = sgemmSeconds(buffers[0].0, buffers[0].1, buffers[0].2)
        let one = (0..<repetitions).map { _ in flops / sgemmSeconds(buffers[0].0, buffers[0].1, buffers[0].2) / 1e9 }
        let pool = try WorkerPool(size: 2, cpus: Topology.current().cpus(forWorkers: 2, placement: .packed))
        var two: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            try? pool.run { rank in
                let (a, b, c) = buffers[rank]
                _ = sgemmSeconds(a, b, c)
            }
            two.append(2 * flops / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) / 1e9)
        }
        let bytes = 64 << 20
        let src = AlignedBuffer(count: bytes / 4), dst = AlignedBuffer(count: bytes / 4)
        Kernels.fill(src.base, bytes / 4, 1)
        var copies: [Double] = []
        for _ in 0...repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            memcpy(dst.base, src.base, bytes)
            copies.append(2 * Double(bytes) / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) / 1e9)
        }
        func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
        return MachineBaseline(sgemmOneThread: median(one), sgemmTwoThreads: median(two), memcpyGBps: median(Array(copies.dropFirst())))
    }
}

