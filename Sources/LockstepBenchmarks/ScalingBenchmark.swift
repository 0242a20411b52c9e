import Foundation
import Lockstep
/// One measured configuration: a workload on N workers.
public struct ScalingResult: Sendable, Codable, Equatable {
    public var workload: String
    public var workers: Int
    /// Threads that ran the workers (fewer than the workers when they outnumber the CPUs: a
    /// thread then runs several in turn, and the phase timings of worker 0 count the time its
    /// thread spent on the others, so they are not reported).
    public var threads: Int
    /// Median over repetitions of training samples per second in steady state.
    public var samplesPerSecond: Double
    /// All repetitions' figures, in order.
    public var repetitions: [Double]
    /// Worker 0's phases over one extra, profiled repetition (profiling adds a barrier per step,
    /// so the throughput figures come from unprofiled repetitions).
    public var phases: PhaseTimings
    /// Gradient bytes × 2(N−1)/N per second of reduce-scatter + all-gather (NCCL's bus bandwidth).
    public var busBandwidthGBps: Double?
    public var gflops: Double
    /// Samples/s × positions per sample, for a sequence workload.
    public var tokensPerSecond: Double?
}

/// Runs workloads on several worker counts and reports steady-state throughput, one repetition
/// after another (never concurrently).
///
/// ```swift
/// let results = try ScalingBenchmark.run(.named("mlp-mnist")!, workers: [1, 2, 4, 8])
/// ```
public enum ScalingBenchmark {
    /// Trains `warmup` steps on every worker count, then measures each worker count in turn,
    /// `repetitions` rounds, interleaved so that a slow spell of a shared machine touches every
    /// configuration alike. `minimumSeconds` sizes each measure from the warm-up's pace.
    public static func run(_ workload: Workload, workers: [Int], steps: Int? = nil, warmup: Int = 10,
                           repetitions: Int = 3, minimumSeconds: Double = 0.5,
                           topology: Topology = .current(), placement: Placement = .packed) throws -> [ScalingResult] {
        let data = try workload.data()
        let stepsPerEpoch = data.count / workload.batchSize
        var trainers: [DataParallelTrainer] = []
        var epochs: [Int] = []
        for n in workers {
            let trainer = try workload.trainer(workers: n, placement: placement, topology: topology)
            trainer.profile = true   // for the warm-up's pace; off while measuring
            // Warm up: first-touch the arenas, settle the clocks.
            try trainer.fit(data, epochs: max(1, (warmup + stepsPerEpoch - 1) / stepsPerEpoch), batchSize: workload.batchSize, seed: 1)
            let perStep = max(trainer.phaseTimings.totalSeconds / Double(max(trainer.phaseTimings.steps, 1)), 1e-7)
            let wanted = steps ?? max(Int((minimumSeconds / perStep).rounded(.up)), stepsPerEpoch)
            epochs.append(max(1, (wanted + stepsPerEpoch - 1) / stepsPerEpoch))
            trainer.profile = false
            trainers.append(trainer)
        }
        var figures = Array(repeating: [Double](), count: workers.count)
        for r in 0..<repetitions {
            for (i, trainer) in trainers.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                try trainer.fit(data, epochs: epochs[i], batchSize: workload.batchSize, seed: UInt64(2 + r))
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                figures[i].append(Double(epochs[i] * stepsPerEpoch * workload.batchSize) / seconds)
            }
        }
        for (i, trainer) in trainers.enumerated() {
            trainer.profile = true
            trainer.resetPhaseTimings()
            try trainer.fit(data, epochs: epochs[i], batchSize: workload.batchSize, seed: 99)
        }
        return workers.indices.map { i in
            let n = workers[i], phases = trainers[i].phaseTimings
            let median = figures[i].sorted()[figures[i].count / 2]
            let gradientBytes = Double(trainers[i].model.store.count * MemoryLayout<Float>.stride)
            let collective = phases.reduceScatterSeconds + phases.allGatherSeconds
            let bus = n > 1 && collective > 0
                ? gradientBytes * 2 * Double(n - 1) / Double(n) * Double(phases.steps) / collective / 1e9 : nil
            return ScalingResult(workload: workload.name, workers: n, threads: trainers[i].threadCount, samplesPerSecond: median, repetitions: figures[i],
                                 phases: phases, busBandwidthGBps: bus, gflops: median * workload.flopsPerSample / 1e9,
                                 tokensPerSecond: workload.tokensPerSample.map { median * Double($0) })
        }
    }
}
