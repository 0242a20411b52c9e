import Foundation
import Synchronization

/// Synchronous data-parallel training on N pinned worker threads (pillar 4).
///
/// Every worker holds a replica built from the same seed. Each step, the global batch is cut into
/// one contiguous shard per worker; each worker's loss is divided by the *global* batch rows, so
/// the gradient sum over workers is exactly the whole batch's gradient. Gradients are summed by a
/// reduce-scatter in a fixed order, each worker steps the optimizer on its own slice of the
/// parameters (optimizer state is sharded), and an all-gather makes every replica identical again.
/// One worker is the same code path with N = 1.
///
/// ```swift
/// let trainer = try DataParallelTrainer(
///     workers: 4, model: .mlp(inputs: 4, hidden: [64], outputs: 3),
///     loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
/// let result = try trainer.fit(train, epochs: 100, batchSize: 32, validation: validation) { event in
///     if case let .epochEnded(report) = event { print(report.epoch, report.trainLoss) }
/// }
/// let model = trainer.model       // the trained weights (every replica holds the same)
/// ```
public final class DataParallelTrainer: @unchecked Sendable {
    public let workerCount: Int
    public let placement: Placement
    public let topology: Topology
    public let spec: ModelSpec
    public let loss: any Loss
    public let optimizerSpec: OptimizerSpec
    /// The learning-rate schedule; its `base` is the optimizer's learning rate.
    public var schedule: LRSchedule
    /// Clip the global gradient norm to this, if set.
    public var clipNorm: Float?
    /// The CPU each worker runs on (nil where the system refused pinning).
    public var workerCPUs: [Int?] { pool.pinnedCPUs }

    private let pool: WorkerPool
    private let group: ThreadGroup
    private let workers: WorkerSlots
    private let stopRequested = Atomic<Bool>(false)
    private let control = Atomic<Int>(0)
    /// Optimizer steps taken over all `fit` calls.
    public private(set) var stepCount = 0

    /// Builds the workers, their pinned threads and their replicas (each on its own thread).
    ///
    /// - Parameters:
    ///   - workers: number of worker threads, ≥ 1 (more than the CPUs is allowed).
    ///   - placement: how workers are laid over NUMA nodes.
    ///   - topology: the machine; `Topology.current()` by default.
    ///   - pin: pin each worker to its CPU.
    ///   - model: the architecture; every replica is built from `seed`.
    public init(workers: Int = 1, placement: Placement = .packed, topology: Topology = .current(), pin: Bool = true,
                model: ModelSpec, seed: UInt64 = 0, loss: any Loss, optimizer: OptimizerSpec,
                schedule: LRSchedule.Kind = .constant, warmupSteps: Int = 0, clipNorm: Float? = nil) throws {
        guard workers >= 1 else { throw ConfigurationError("the worker count must be at least 1, got \(workers)") }
        if let clipNorm, !(clipNorm > 0) { throw ConfigurationError("the clipping norm must be positive, got \(clipNorm)") }
        workerCount = workers
        self.placement = placement
        self.topology = topology
        spec = model
        self.loss = loss
        optimizerSpec = optimizer
        self.schedule = LRSchedule(base: optimizer.learningRate, kind: schedule, warmupSteps: warmupSteps)
        self.clipNorm = clipNorm
        let cpus = topology.cpus(forWorkers: workers, placement: placement)
        pool = WorkerPool(size: workers, cpus: pin ? cpus : nil)
        // Spinning only pays when every worker has a core of its own.
        group = ThreadGroup(size: workers, spins: workers <= topology.cpuCount ? 4000 : 0)
        let slots = WorkerSlots(count: workers)
        self.workers = slots
        let group = self.group, multiNode = topology.nodes.count > 1, topology = self.topology
        try pool.run { rank in
            let node = multiNode ? topology.node(ofCPU: cpus[rank]) : nil
            slots[rank] = Worker(rank: rank, spec: model, seed: seed, optimizer: optimizer,
                                 communicator: group.communicator(rank: rank), numaNode: node)
        }
    }

    /// The trained model: worker 0's replica (all replicas are identical between steps).
    public var model: Sequential { workers[0].model }

    /// A copy of worker `rank`'s flat parameter buffer, to check that replicas agree.
    public func replicaParameters(_ rank: Int) -> [Float] { Array(workers[rank].model.store.values.buffer) }

    /// Time each phase of every step (see `phaseTimings`); off by default.
    public var profile: Bool {
        get { workers[0].profiling }
        set { for k in 0..<workerCount { workers[k].profiling = newValue } }
    }

    /// Worker 0's phase timings since profiling was last reset.
    public var phaseTimings: PhaseTimings { workers[0].timings }

    /// Clears the phase timings of every worker.
    public func resetPhaseTimings() { for k in 0..<workerCount { workers[k].timings = PhaseTimings() } }

    /// Runs `body(rank)` once on every worker's thread and waits (per-thread set-up such as a
    /// profiler or a thread-local setting).
    public func runOnWorkers(_ body: @escaping @Sendable (Int) -> Void) throws {
        try pool.run { rank in body(rank) }
    }

    /// The gradient of the loss over `rows` of `data` as one global batch, computed the way a
    /// training step computes it (each worker its shard, summed by the reduce-scatter), without
    /// updating the parameters. Flat, in the layout of `model.store`.
    public func gradient(of data: Dataset, rows: [Int], seed: UInt64 = 0, step: Int = 0) throws -> [Float] {
        try checkFits(data, "gradient")
        guard rows.count >= 1 else { throw ConfigurationError("a gradient needs at least one row") }
        let result = GradientResult()
        let workers = self.workers, loss = self.loss, count = workerCount
        try pool.run({ rank in
            let worker = workers[rank]
            let shard = Sharder.shard(of: 0..<rows.count, worker: rank, workers: count)
            _ = try rows.withUnsafeBufferPointer { all in
                try worker.gradientStep(data, rows: UnsafeBufferPointer(rebasing: all[shard]), batchRows: rows.count,
                                        rowOffset: shard.lowerBound, step: step, seed: seed, loss: loss)
            }
            try worker.communicator.allGather(worker.model.store.gradients.buffer)
            if rank == 0 { result.values = Array(worker.model.store.gradients.buffer) }
        }, onFailure: { [group] rank, error in group.abort("worker \(rank) failed: \(error)") })
        return result.values
    }

    /// Asks a running `fit` to stop after the current step. Safe from any thread (a signal
    /// handler's relay, another task, an event handler).
    public func stop() { stopRequested.store(true, ordering: .sequentiallyConsistent) }

    /// Trains on `train` for `epochs` epochs of global batches of `batchSize` rows.
    ///
    /// `seed` fixes the shuffling and dropout: the same seed and worker count give bit-identical
    /// weights on every run. Events arrive on worker 0's thread.
    @discardableResult
    public func fit(_ train: Dataset, epochs: Int, batchSize: Int, validation: Dataset? = nil, seed: UInt64 = 0,
                    shuffle: Bool = true, dropLast: Bool = false,
                    onEvent: @escaping @Sendable (TrainingEvent) -> Void = { _ in }) throws -> FitResult {
        guard epochs >= 0 else { throw ConfigurationError("epochs must be non-negative, got \(epochs)") }
        try checkFits(train, "training")
        if let validation { try checkFits(validation, "validation") }
        let sharder = try Sharder(rows: train.count, batchSize: batchSize, workers: workerCount,
                                  shuffle: shuffle, dropLast: dropLast, seed: seed)
        stopRequested.store(false, ordering: .sequentiallyConsistent)
        control.store(0, ordering: .sequentiallyConsistent)
        let run = FitRun(startStep: stepCount)
        let started = ContinuousClock.now
        do {
            try pool.run({ [self] rank in
                try self.workerLoop(rank, train, sharder, epochs: epochs, validation: validation, seed: seed,
                                    run: run, started: started, onEvent: onEvent)
            }, onFailure: { [group] rank, error in
                group.abort("worker \(rank) failed: \(error)")
            })
        } catch let failure as WorkerFailure {
            stepCount = run.steps
            if let error = failure.underlying as? TrainingError { throw error }
            throw TrainingError.workerFailed(worker: failure.rank, step: run.steps + 1, reason: "\(failure.underlying)")
        }
        stepCount = run.steps
        return FitResult(epochs: run.epochs, steps: run.steps - run.startStep, stopped: run.stopped, history: run.history)
    }

    private func checkFits(_ data: Dataset, _ what: String) throws {
        guard data.featureCount == spec.inputFeatures ?? data.featureCount else {
            throw ConfigurationError("the \(what) data has \(data.featureCount) features, the model takes \(spec.inputFeatures!)")
        }
        if loss.expectsClassIndices && data.task != .classification {
            throw ConfigurationError("\(loss.name) needs class labels, but the \(what) data is a regression set")
        }
        if data.task == .classification, let outputs = spec.outputFeatures, data.classLabels.count > outputs {
            throw ConfigurationError("the \(what) data has \(data.classLabels.count) classes, the model gives \(outputs) outputs")
        }
    }

    /// What every worker runs during `fit`; worker 0 also coordinates (events, evaluation, stop).
    private func workerLoop(_ rank: Int, _ train: Dataset, _ sharder: Sharder, epochs: Int, validation: Dataset?,
                            seed: UInt64, run: FitRun, started: ContinuousClock.Instant,
                            onEvent: @Sendable (TrainingEvent) -> Void) throws {
        let worker = workers[rank]
        let comm = worker.communicator
        if worker.order.count != train.count { worker.order = Array(repeating: 0, count: train.count) }
        var step = run.startStep
        var epochLoss = [0.0]
        for epoch in 0..<epochs {
            let epochStart = ContinuousClock.now
            sharder.order(epoch: epoch, into: &worker.order)
            epochLoss[0] = 0
            var rowsSeen = 0
            for s in 0..<sharder.stepsPerEpoch {
                let batch = sharder.batch(step: s)
                let shard = sharder.shard(of: batch, worker: rank)
                let lr = schedule.learningRate(atStep: step)
                let value = try worker.order.withUnsafeBufferPointer { order in
                    try worker.trainStep(train, rows: UnsafeBufferPointer(rebasing: order[shard]), batchRows: batch.count,
                                         rowOffset: shard.lowerBound - batch.lowerBound, step: step, seed: seed,
                                         loss: loss, learningRate: lr, clipNorm: clipNorm)
                }
                epochLoss[0] += Double(value)
                rowsSeen += batch.count
                step += 1
                // Worker 0 decides whether to stop; the all-gather's barrier publishes it.
                if rank == 0 && stopRequested.load(ordering: .sequentiallyConsistent) {
                    control.store(1, ordering: .sequentiallyConsistent)
                }
                try worker.gatherParameters()
                if rank == 0 {
                    run.steps = step
                    onEvent(.stepEnded(epoch: epoch, step: step, stepsPerEpoch: sharder.stepsPerEpoch))
                }
                if control.load(ordering: .sequentiallyConsistent) != 0 { break }
            }
            try comm.allReduce(&epochLoss)
            let stopping = control.load(ordering: .sequentiallyConsistent) != 0
            if rank == 0 {
                let seconds = Double((ContinuousClock.now - epochStart) / .milliseconds(1)) / 1000
                let report = EpochReport(
                    epoch: epoch, step: step, trainLoss: Float(epochLoss[0] / Double(max(sharder.stepsPerEpoch, 1))),
                    validation: validation.map { Evaluator.evaluate(worker.model, on: $0, loss: loss) },
                    samplesPerSecond: Double(rowsSeen) / max(seconds, 1e-9),
                    elapsedSeconds: Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000)
                run.history.append(report)
                if !stopping { run.epochs = epoch + 1 }
                run.stopped = stopping
                onEvent(.epochEnded(report))
            }
            if stopping { break }
        }
    }
}

private final class GradientResult: @unchecked Sendable {
    var values: [Float] = []
}

/// Counters of one `fit`, written by worker 0 only and read by the caller after the pool's run.
private final class FitRun: @unchecked Sendable {
    let startStep: Int
    var steps: Int
    var epochs = 0
    var stopped = false
    var history: [EpochReport] = []
    init(startStep: Int) {
        self.startStep = startStep
        steps = startStep
    }
}

/// The workers, one slot per rank; each slot is written once, by its own worker thread, during
/// the trainer's construction (the pool's hand-back orders it before every read). Raw storage,
/// not an Array: an Array's mutation touches its shared header from every writing thread.
private final class WorkerSlots: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Worker?>
    private let count: Int
    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }
    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }
    subscript(rank: Int) -> Worker {
        get { slots[rank]! }
        set { slots[rank] = newValue }
    }
}
