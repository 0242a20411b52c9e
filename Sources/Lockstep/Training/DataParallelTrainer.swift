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
    /// Number of workers, each holding a replica (the arithmetic's ranks; `threadCount` runs them).
    public let workerCount: Int
    /// How workers are laid over NUMA nodes.
    public let placement: Placement
    /// The machine's NUMA nodes and CPUs the workers were placed on.
    public let topology: Topology
    /// The architecture every replica is built from.
    public let spec: ModelSpec?
    /// Builds one replica: (seed, NUMA node, shared values) → model.
    /// Builds one replica; it throws only while the trainer is being built (a factory that hands
    /// two workers the same module), so the later calls (snapshots, the best model) cannot.
    private let buildReplica: @Sendable (UInt64, Int?, AlignedBuffer?) throws -> Sequential
    /// The loss each worker computes, divided by the global batch rows.
    public let loss: any Loss
    /// The optimizer each worker builds over its slice of the parameters.
    public let optimizerSpec: OptimizerSpec
    /// The learning-rate schedule; its `base` is the optimizer's learning rate.
    public var schedule: LRSchedule
    /// Clip the global gradient norm to this, if set.
    public var clipNorm: Float?
    /// Whether oversubscribed workers on one NUMA node share their parameter values.
    public let shareParameters: Bool
    /// The CPU each worker runs on (nil where the system refused pinning).
    public var workerCPUs: [Int?] { launcher.pinnedCPUs }
    /// Threads that run the workers: one per worker up to the CPUs available, then several
    /// workers per thread, run in turn.
    public let threadCount: Int

    /// Runs the ranks; the trainer knows no more of threads than this.
    let launcher: any Launcher
    /// The job's other processes (MPI), when it spans several.
    public let processes: (any ProcessTransport)?
    /// This process's workers, by rank.
    let workers: RankSlots<Worker>
    let stopRequested = Atomic<Bool>(false)
    /// Whether a `fit` or `gradient` call owns the workers now: a second one at the same time
    /// throws instead of sharing them.
    let busy = Atomic<Bool>(false)
    /// Optimizer steps taken over all `fit` calls (restored by a resume).
    public private(set) var stepCount = 0
    /// The seed every replica was built from.
    public let modelSeed: UInt64
    /// The CPUs this trainer holds in `CPUClaims`, given back when it goes.
    private let claimedCPUs: [Int]
    /// The best weights and buffers of the last `fit` with `keepBest`.
    private var best: (parameters: [Float], buffers: [Float])?

    /// Builds replicas with `build(seed, numaNode, sharedValues)`; `spec` is their architecture
    /// as a value when there is one. The public initializers are in DataParallelTrainer+Models.swift.
    init(workers: Int, placement: Placement, topology: Topology, pin: Bool, spec: ModelSpec?,
                 build: @escaping @Sendable (UInt64, Int?, AlignedBuffer?) throws -> Sequential, seed: UInt64, loss: any Loss,
                 optimizer: OptimizerSpec, schedule: LRSchedule.Kind, warmupSteps: Int, clipNorm: Float?,
                 shareParameters: Bool, processes: (any ProcessTransport)?) throws {
        guard (1...Topology.maxWorkers).contains(workers) else {
            throw ConfigurationError("the worker count must be in 1…\(Topology.maxWorkers), got \(workers)")
        }
        try optimizer.validate()
        BLAS.useOneThreadPerCall()   // the workers are the threads
        if let clipNorm, !(clipNorm > 0 && clipNorm.isFinite) { throw ConfigurationError("the clipping norm must be positive, got \(clipNorm)") }
        self.processes = processes
        workerCount = workers * (processes?.processCount ?? 1)
        self.placement = placement
        self.topology = topology
        self.spec = spec
        buildReplica = build
        self.loss = loss
        optimizerSpec = optimizer
        self.schedule = LRSchedule(base: optimizer.learningRate, kind: schedule, warmupSteps: warmupSteps)
        self.clipNorm = clipNorm
        modelSeed = seed
        // One thread per CPU at most: with more workers than CPUs a thread runs several workers in
        // turn (the same arithmetic as a thread each, without time-slicing threads at every barrier).
        let threads = min(workers, topology.cpuCount)
        // Another trainer of this process may hold the first CPUs already: take the ones it left free.
        let placed = topology.cpus(forWorkers: threads, placement: placement)
        let (threadCPUs, shared) = pin ? CPUClaims.claim(placed, allowed: topology.nodes.flatMap { $0 }) : (placed, false)
        claimedCPUs = pin ? threadCPUs : []
        // Spinning only pays when every thread has a core of its own.
        let launcher = try ThreadLauncher(ranks: workers, threads: threads, cpus: pin ? threadCPUs : nil, spins: shared ? 0 : 4000,
                                          across: processes)
        self.launcher = launcher
        threadCount = threads
        let first = launcher.localRanks.lowerBound
        let cpus = launcher.localRanks.map { threadCPUs[launcher.thread(ofRank: $0)] }
        let slots = RankSlots<Worker>(count: workerCount)
        self.workers = slots
        self.shareParameters = shareParameters
        let multiNode = topology.nodes.count > 1, topology = self.topology
        let nodes = cpus.map { topology.node(ofCPU: $0) }
        // With more workers than CPUs, the first worker of each NUMA node builds its replica and
        // the node's other workers view its parameter values (each keeps its own gradients, tape
        // and arena): time-sliced replicas then stop copying and caching the model eight times
        // over. With a CPU each, every replica keeps its own buffer: one written from two cores
        // pays for every cache line it moves (the optimizer step took twice as long, 2 workers).
        // (Over processes each replica keeps its own: the first rank of a process receives the
        // other processes' parts into its buffer for the others to copy.)
        let oversubscribed = workers > topology.cpuCount
        let sharing = cpus.indices.map { shareParameters && oversubscribed && processes == nil ? nodes[$0] : -1 - $0 }
        let leaders = Set(sharing.indices.filter { sharing.firstIndex(of: sharing[$0]) == $0 })
        for building in [true, false] where !(building == false && leaders.count == workers) {
            try launcher.run { rank, communicator in
                let k = rank - first
                guard leaders.contains(k) == building else { return }
                let shared = building ? nil : slots[first + sharing.firstIndex(of: sharing[k])!].model.store.values
                let model = try build(seed, multiNode ? nodes[k] : nil, shared)
                slots[rank] = Worker(rank: rank, model: model, optimizer: optimizer, communicator: communicator,
                                     numaNode: multiNode ? nodes[k] : nil)
            }
        }
        if let replica = try replicasDiffer() { throw replica }
    }

    /// A module tree as text: each module's type and children, each parameter's name and shape —
    /// what two replicas must share besides their values (a ReLU and a Tanh hold no parameters).
    static func structure(of module: any Module) -> String {
        "\(type(of: module))(" + module.parameters.map { "\($0.localName)\($0.shape)" }.joined(separator: ",") + ";"
            + module.buffers.map { "\($0.localName)\($0.shape)" }.joined(separator: ",") + ";"
            + module.children.map { $0.name + ":" + structure(of: $0.module) }.joined(separator: ",") + ")"
    }

    /// Replicas that do not start identical (a factory that draws its own random numbers) would
    /// train apart silently: each rank's checksum of its parameters is compared through the
    /// communicator.
    private func replicasDiffer() throws -> ConfigurationError? {
        let workers = self.workers
        let mismatch = Atomic<Bool>(false)
        let me = processes?.process ?? 0, processCount = processes?.processCount ?? 1, first = localWorkers.lowerBound
        let differing = Atomic<Int>(-1)
        try launcher.run { rank, communicator in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in Self.structure(of: workers[rank].model).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            for v in workers[rank].model.store.values.buffer { hash = (hash ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
            for v in workers[rank].model.bufferValues.buffer { hash = (hash ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
            // Two halves of 32 bits: each a Double exactly.
            var sums = [Double(hash >> 32), Double(hash & 0xFFFF_FFFF)]
            let mine = sums
            try communicator.broadcast(&sums, root: 0)
            if mine != sums { mismatch.store(true, ordering: .relaxed) }
            guard processCount > 1 else { return }
            // Over processes, a replica that differs from rank 0's is most likely another process's
            // settings (--model, --seed, --dropout): every process learns the first that differs.
            var votes = [Double](repeating: 0, count: processCount)
            try communicator.barrier()   // every rank's own comparison is done
            if rank == first && mismatch.load(ordering: .relaxed) { votes[me] = 1 }
            try communicator.allReduce(&votes)
            if rank == first { differing.store(votes.firstIndex { $0 != 0 } ?? -1, ordering: .relaxed) }
        }
        let other = differing.load(ordering: .relaxed)
        if other >= 0, let processes {
            return ConfigurationError((other == me ? processes.processDescription : describe(process: other))
                                      + " builds another model than process 0 (its --model, --seed or --dropout differ, or its factory draws "
                                      + "numbers of its own): start every process with the same command")
        }
        return mismatch.load(ordering: .relaxed) ? ConfigurationError("the replicas start different: the factory builds them from something besides "
                                                                      + "its code and the trainer's seed (other layers, or parameters of its own drawing)") : nil
    }

    deinit { CPUClaims.release(claimedCPUs) }

    /// The ranks (workers) this process runs: all of them, unless the job spans processes.
    public var localWorkers: Range<Int> { launcher.localRanks }

    /// Whether this process holds global rank 0: the one that evaluates and writes files.
    public var isRoot: Bool { launcher.localRanks.contains(0) }

    /// The trained model: this process's first replica (all replicas are identical between steps).
    public var model: Sequential { workers[localWorkers.lowerBound].model }

    /// A copy of worker `rank`'s flat parameter buffer (one of `localWorkers`), to check that replicas agree.
    public func replicaParameters(_ rank: Int) -> [Float] { Array(workers[rank].model.store.values.buffer) }

    /// A copy of worker `rank`'s flat buffers (running statistics), to check that replicas agree.
    public func replicaBuffers(_ rank: Int) -> [Float] { Array(workers[rank].model.bufferValues.buffer) }

    /// Time each phase of every step (see `phaseTimings`); off by default.
    public var profile: Bool {
        get { workers[localWorkers.lowerBound].profiling }
        set { for k in localWorkers { workers[k].profiling = newValue } }
    }

    /// This process's first worker's phase timings since profiling was last reset.
    public var phaseTimings: PhaseTimings { workers[localWorkers.lowerBound].timings }

    /// Clears the phase timings of every worker.
    public func resetPhaseTimings() { for k in localWorkers { workers[k].timings = PhaseTimings() } }

    /// Runs `body(rank)` once on every worker's thread and waits (per-thread set-up such as a
    /// profiler or a thread-local setting).
    public func runOnWorkers(_ body: @escaping @Sendable (Int) -> Void) throws {
        try claimWorkers()
        defer { busy.store(false, ordering: .sequentiallyConsistent) }
        try launcher.run { rank, _ in body(rank) }
    }

    /// The gradient of the loss over `rows` of `data` as one global batch, computed the way a
    /// training step computes it (each worker its shard, summed by the reduce-scatter), without
    /// updating the parameters. Flat, in the layout of `model.store`.
    public func gradient(of data: any DataSource, rows: [Int], seed: UInt64 = 0, step: Int = 0) throws -> [Float] {
        try checkFits(data, "gradient")
        try claimWorkers()
        defer { busy.store(false, ordering: .sequentiallyConsistent) }
        guard rows.count >= 1 else { throw ConfigurationError("a gradient needs at least one row") }
        if let bad = rows.first(where: { !(0..<data.count).contains($0) }) {
            throw ConfigurationError("row \(bad) is outside the data's \(data.count) rows")
        }
        let result = GradientResult()
        let workers = self.workers, loss = self.loss, count = workerCount, first = localWorkers.lowerBound
        try launcher.run { rank, _ in
            let worker = workers[rank]
            let shard = Sharder.shard(of: 0..<rows.count, worker: rank, workers: count)
            _ = try rows.withUnsafeBufferPointer { all in
                try worker.gradientStep(data, rows: UnsafeBufferPointer(rebasing: all[shard]), batchRows: rows.count,
                                        rowOffset: shard.lowerBound, step: step, seed: seed, loss: loss)
            }
            try worker.communicator.allGather(worker.model.store.gradients.buffer)
            if rank == first { result.values = Array(worker.model.store.gradients.buffer) }
        }
        return result.values
    }

    /// Asks the `fit` that is running now to stop after its current step. Safe from any thread
    /// (another task, an event handler). A stop while no fit runs is ignored: the next fit starts
    /// afresh. To stop a fit that may not have started yet (a signal during set-up), give it a
    /// `StopToken` in `FitOptions.stopToken`.
    public func stop() { stopRequested.store(true, ordering: .sequentiallyConsistent) }

    /// Trains on `train` for `epochs` epochs of global batches of `batchSize` rows.
    ///
    /// `seed` fixes the shuffling and dropout: the same seed and worker count give bit-identical
    /// weights on every run. Events arrive on worker 0's thread.
    @discardableResult
    public func fit(_ train: any DataSource, epochs: Int, batchSize: Int, validation: Dataset? = nil, seed: UInt64 = 0,
                    shuffle: Bool = true, dropLast: Bool = false,
                    onEvent: @escaping @Sendable (TrainingEvent) -> Void = { _ in }) throws -> FitResult {
        var options = FitOptions(epochs: epochs, batchSize: batchSize, seed: seed)
        options.validation = validation
        options.shuffle = shuffle
        options.dropLast = dropLast
        return try fit(train, options, onEvent: onEvent)
    }

    /// The configuration a checkpoint of a run with `options` records.
    public func configuration(_ options: FitOptions) -> TrainingConfiguration {
        TrainingConfiguration(model: spec, layout: spec == nil ? layout : nil, modelSeed: modelSeed, loss: loss.name, optimizer: optimizerSpec, schedule: schedule,
                              clipNorm: clipNorm, batchSize: options.batchSize, seed: options.seed, shuffle: options.shuffle,
                              dropLast: options.dropLast)
    }

    /// Trains as `options` says: evaluation, early stopping, best model, checkpoints, resume.
    ///
    /// A second `fit` on the same trainer starts from the weights and optimizer state the first
    /// left, and its learning-rate schedule goes on from `stepCount`; its epochs count from 0
    /// again, each shuffled by (seed, epoch) as the first fit's were. To continue a run exactly
    /// where it stopped, resume from its checkpoint (`options.resume`).
    @discardableResult
    public func fit(_ train: any DataSource, _ options: FitOptions,
                    onEvent: @escaping @Sendable (TrainingEvent) -> Void = { _ in }) throws -> FitResult {
        var options = options
        if !isRoot { options.checkpoints = nil }   // global rank 0 writes every file
        let (sharder, configuration, fingerprint) = try prepare(train, options)
        try claimWorkers()
        defer { busy.store(false, ordering: .sequentiallyConsistent) }
        // A stop() from here on is this fit's; one from before it, when no fit ran, is not.
        stopRequested.store(false, ordering: .sequentiallyConsistent)
        if let checkpoint = options.resume {
            try checkResumes(checkpoint, train, options)
            try checkFits(checkpoint, configuration: configuration, data: fingerprint, train: train, options: options)
        }
        // Over processes, rank 0 alone holds the checkpoint: the others learn where to start from it.
        let start = try agreeOnStart(options.resume, configuration: configuration, data: fingerprint, options: options)
        if let start {
            try restore(options.resume, workersThen: start.workers, onEvent: onEvent)
            stepCount = start.step
        }
        defer { stopRequested.store(false, ordering: .sequentiallyConsistent) }
        let coordinator = try Coordinator(options: options, configuration: configuration, dataFingerprint: fingerprint,
                                          workerCount: workerCount, stepsPerEpoch: sharder.stepsPerEpoch, rowsPerEpoch: sharder.rows, loss: loss,
                                          startStep: stepCount, onEvent: onEvent)
        let firstStep = stepCount
        let position = start.map { ($0.epoch, $0.stepInEpoch, $0.lossSum) } ?? (0, 0, 0.0)
        let orders = EpochOrder(sharder, first: position.0)
        do {
            let follows = isRoot ? -1 : localWorkers.lowerBound
            try launcher.run { [self, options] rank, _ in
                try self.workerLoop(workers[rank], train, sharder, orders: orders, options: options, start: position,
                                    coordinator: rank == 0 ? coordinator : nil, follower: rank == follows ? coordinator : nil)
            }
        } catch let failure as WorkerFailure {
            stepCount = coordinator.steps
            try? coordinator.writer?.finish()
            coordinator.writer?.abandon()
            let last = coordinator.writer?.lastWritten
            if case let TrainingError.nonFiniteLoss(worker, step, value, _)? = failure.underlying as? TrainingError {
                throw TrainingError.nonFiniteLoss(worker: worker, step: step, value: value, lastCheckpoint: last)
            }
            if let error = failure.underlying as? TrainingError { throw error }
            throw TrainingError.workerFailed(worker: failure.rank, step: coordinator.steps + 1, reason: "\(failure.underlying)")
        }
        stepCount = coordinator.steps
        try coordinator.writer?.finish()
        best = coordinator.bestParameters.map { ($0, coordinator.bestBuffers ?? []) }
        if options.restoreBest, !coordinator.stopped {
            let workers = self.workers, best = self.best
            // Rank 0 decides (the other processes hold no best model); the others follow.
            try launcher.run { rank, communicator in
                var have = [rank == 0 && best != nil ? 1.0 : 0.0]
                try communicator.broadcast(&have, root: 0)
                guard have[0] != 0 else { return }
                try workers[rank].loadParameters(from: rank == 0 ? best!.parameters : nil)
                try workers[rank].loadBuffers(from: rank == 0 ? best!.buffers : nil)
            }
        }
        let bestFigure = coordinator.earlyStopping.best.flatMap { value in coordinator.earlyStopping.bestEpoch.map { ($0, value) } }
        return FitResult(epochs: coordinator.epochsCompleted, steps: coordinator.steps - firstStep, stopped: coordinator.stopped,
                         earlyStopped: coordinator.earlyStopped, history: coordinator.history,
                         lastCheckpoint: coordinator.writer?.lastWritten, best: bestFigure)
    }

    /// The replicas' parameters by name and shape, one per line: what identifies a model of the
    /// caller's own layers in a checkpoint.
    var layout: String {
        (model.namedParameters.map { "\($0.name) \($0.parameter.shape)" }
            + model.namedBuffers.map { "\($0.name) \($0.buffer.shape) buffer" }).joined(separator: "\n")
    }

    /// An immutable, `Sendable` copy of the weights now (every replica holds the same between
    /// fits): what to hand to another task, or to keep while training goes on.
    public func snapshot() -> TrainedModel {
        let build = buildReplica
        return TrainedModel(spec: spec, parameters: Array(model.store.values.buffer), buffers: Array(model.bufferValues.buffer)) {
            try! build(0, nil, nil)   // see `buildReplica`: it no longer throws
        }
    }

    /// The model at the best validation figure of the last `fit` with `keepBest`, or nil.
    public func bestModel() -> Sequential? {
        guard let best else { return nil }
        let model = try! buildReplica(0, nil, nil)   // see `buildReplica`: it no longer throws
        best.parameters.withUnsafeBufferPointer { Kernels.copy($0.baseAddress!, model.store.values.base, $0.count) }
        best.buffers.withUnsafeBufferPointer { if $0.count > 0 { Kernels.copy($0.baseAddress!, model.bufferValues.base, $0.count) } }
        return model
    }

    /// Loads a checkpoint (checked already) into every replica and optimizer shard: rank 0 holds
    /// it (`checkpoint` is nil on the other processes); the others receive their parts through
    /// the communicator.
    private func restore(_ checkpoint: Checkpoint?, workersThen: Int, onEvent: @Sendable (TrainingEvent) -> Void) throws {
        if isRoot, workersThen != workerCount {
            onEvent(.warning("resuming with \(workerCount) workers from a checkpoint of \(workersThen): "
                             + "the run will no longer be bit-identical to an uninterrupted one"))
        }
        let workers = self.workers
        do {
            try launcher.run { rank, _ in try workers[rank].restore(from: rank == 0 ? checkpoint : nil) }
        } catch let failure as WorkerFailure {
            throw failure.underlying
        }
    }

    func claimWorkers() throws {
        guard busy.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else {
            throw ConfigurationError("this trainer is already running a fit (or gradient) on another thread; "
                                     + "use a second trainer to train two models at once")
        }
    }
}

private final class GradientResult: @unchecked Sendable {
    var values: [Float] = []
}
