/// One worker of the data-parallel engine: a model replica with its own tape, arena, optimizer
/// shard and communicator rank. It runs on its pinned thread only.
///
/// One training step is one call, `step`, as DESIGN.md §2 draws it:
/// gather the shard's rows → forward on the tape → loss ÷ global batch rows → zero grads →
/// backward into the flat gradient buffer → reduce-scatter (sum) → optimizer step on this rank's
/// slice → all-gather of parameters, which also carries rank 0's control decision to every rank.
///
/// A worker touches only its own replica and optimizer shard: what other ranks hold reaches it
/// through its communicator (the all-gather, a checkpoint's gather, a resume's scatter), so the
/// same code runs when the ranks are other processes.
final class Worker: @unchecked Sendable {
    let rank: Int
    let model: Sequential
    let tape: Tape
    let communicator: any Communicator
    let optimizer: any Optimizer
    /// This rank's slice of the flat buffers (the optimizer's range).
    let slice: Range<Int>
    /// Whether to time each phase of a step into `timings`.
    // Read at every step by this worker's thread only (no dynamic exclusivity checks).
    @exclusivity(unchecked) var profiling = false
    @exclusivity(unchecked) var timings = PhaseTimings()
    /// Room for the scalars of an all-reduce, allocated once.
    private let scalar = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1)

    /// `model` is this worker's replica, built on its thread.
    init(rank: Int, model: Sequential, optimizer: OptimizerSpec, communicator: any Communicator, numaNode: Int?) {
        self.rank = rank
        self.communicator = communicator
        self.model = model
        tape = Tape(arena: Arena(numaNode: numaNode))
        // Batch norm's statistics span every worker's rows: a small all-reduce inside forward and backward.
        tape.replicaSum = { try communicator.allReduce($0) }
        slice = communicator.shard(of: model.store.count, rank: rank)
        self.optimizer = optimizer.make(for: model.store, range: slice)
    }

    /// One training step on `rows` (dataset row indices, this worker's shard of a batch of
    /// `batchRows`): forward and backward, reduce-scatter and the optimizer step on this rank's
    /// slice, all-gather of the parameters. `proposal` says what this rank would have the run do
    /// next, asked once the step's update is done; rank 0's is the decision every rank gets back.
    func step(_ data: any DataSource, rows: UnsafeBufferPointer<Int>, batchRows: Int, rowOffset: Int,
              step: Int, seed: UInt64, loss: any Loss, learningRate: Float, clipNorm: Float?,
              proposing proposal: () -> RunControl) throws -> StepOutcome {
        let value = try updateSlice(data, rows: rows, batchRows: batchRows, rowOffset: rowOffset, step: step, seed: seed,
                                    loss: loss, learningRate: learningRate, clipNorm: clipNorm)
        let start = profiling ? monotonicNanoseconds() : 0
        // Asked as late as possible: a stop() that came during this step's compute ends the run here.
        let word = try communicator.allGather(model.store.values.buffer, broadcasting: proposal().rawValue)
        if profiling {
            timings.allGatherSeconds += Double(monotonicNanoseconds() - start) * 1e-9
            timings.steps += 1
        }
        guard let decided = RunControl(rawValue: word) else { throw WorkerAborted(reason: "rank 0 sent control word \(word)") }
        return StepOutcome(loss: value, control: decided)
    }

    /// Forward and backward, reduce-scatter, and the optimizer step on this rank's slice.
    ///
    /// Without clipping, the optimizer consumes the reduce-scatter's sums block by block (one pass
    /// over memory); clipping needs the whole gradient's norm first, so it sums, then steps.
    private func updateSlice(_ data: any DataSource, rows: UnsafeBufferPointer<Int>, batchRows: Int, rowOffset: Int,
                   step: Int, seed: UInt64, loss: any Loss, learningRate: Float, clipNorm: Float?) throws -> Float {
        let value = try computeGradients(data, rows: rows, batchRows: batchRows, rowOffset: rowOffset, step: step, seed: seed, loss: loss)
        optimizer.learningRate = learningRate
        if profiling {
            let arrived = monotonicNanoseconds()
            try communicator.barrier()
            timings.waitSeconds += Double(monotonicNanoseconds() - arrived) * 1e-9
        }
        let start = profiling ? monotonicNanoseconds() : 0
        if let clipNorm {
            try communicator.reduceScatter(model.store.gradients.buffer)
            let reduced = profiling ? monotonicNanoseconds() : 0
            try clip(maxNorm: clipNorm)
            optimizer.step()
            if profiling {
                timings.reduceScatterSeconds += Double(reduced - start) * 1e-9
                timings.optimizerSeconds += Double(monotonicNanoseconds() - reduced) * 1e-9
            }
        } else {
            let optimizer = self.optimizer
            try communicator.reduceScatter(model.store.gradients.buffer) { block, sum in optimizer.step(block: block, gradients: sum) }
            optimizer.finishStep()
            if profiling { timings.reduceScatterSeconds += Double(monotonicNanoseconds() - start) * 1e-9 }
        }
        return value
    }

    /// Forward, loss, zero grads, backward, and the gradient sum over workers into this rank's
    /// slice of the gradient buffer. Returns this worker's share of the loss.
    func gradientStep(_ data: any DataSource, rows: UnsafeBufferPointer<Int>, batchRows: Int, rowOffset: Int,
                      step: Int, seed: UInt64, loss: any Loss) throws -> Float {
        let value = try computeGradients(data, rows: rows, batchRows: batchRows, rowOffset: rowOffset, step: step, seed: seed, loss: loss)
        try communicator.reduceScatter(model.store.gradients.buffer)
        return value
    }

    /// Forward, loss, zero grads and backward into this replica's own gradient buffer. Returns
    /// this worker's share of the loss.
    private func computeGradients(_ data: any DataSource, rows: UnsafeBufferPointer<Int>, batchRows: Int, rowOffset: Int,
                                  step: Int, seed: UInt64, loss: any Loss) throws -> Float {
        let start = profiling ? monotonicNanoseconds() : 0
        tape.reset()
        tape.seed = seed
        tape.step = step
        tape.rowOffset = rowOffset
        let n = rows.count, targetShape = data.targetBatchShape(rows: n)
        let targets = tape.arena.allocate(max(targetShape.count, 1), zeroed: false)
        let x = tape.input(data.batchShape(rows: n)) { dst in data.gather(rows, features: dst.baseAddress!, targets: targets) }
        let y = tape.leaf(data: targets, grad: nil, shape: targetShape)
        let l = loss(model(x), y, divisor: Float(batchRows))
        if let error = tape.collectiveError { throw error }
        if let failure = tape.failure { throw ConfigurationError("the model's forward pass does not fit the data: \(failure)") }
        let value = l.item
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(worker: rank, step: step, value: value, lastCheckpoint: nil) }
        // Zero grads, the cheap way: backward overwrites instead of adding (set_to_none).
        model.store.markGradientsStale()
        l.backward()
        if let error = tape.collectiveError { throw error }
        model.store.zeroStaleGradients()
        if profiling { timings.computeSeconds += Double(monotonicNanoseconds() - start) * 1e-9 }
        return value
    }

    /// Global-norm clipping across shards: each rank's sum of squares, summed over ranks.
    private func clip(maxNorm: Float) throws {
        let grads = UnsafeMutableBufferPointer(rebasing: model.store.gradients.buffer[slice])
        scalar[0] = grads.isEmpty ? 0 : Kernels.sumOfSquares(grads.baseAddress!, grads.count)
        try communicator.allReduce(scalar)
        GradientClipping.scale(grads, norm: Float(scalar[0].squareRoot()), maxNorm: maxNorm)
    }

    /// Collective: rank 0 receives the whole optimizer state, every rank's shard laid in place
    /// (zeros in no rank's range); the other ranks get nil.
    func gatherOptimizerState() throws -> OptimizerState? {
        let mine = optimizer.stateDict(), count = model.store.count
        var whole: [String: [Float]] = [:]
        for name in mine.buffers.keys.sorted() {   // the same order on every rank
            var buffer = communicator.rank == 0 ? [Float](repeating: 0, count: count) : nil
            try mine.buffers[name]!.withUnsafeBufferPointer { part in
                if buffer == nil {
                    try communicator.gather(part, count: count, into: nil, root: 0)
                } else {
                    try buffer!.withUnsafeMutableBufferPointer { try communicator.gather(part, count: count, into: $0, root: 0) }
                }
            }
            whole[name] = buffer
        }
        return communicator.rank == 0 ? OptimizerState(stepCount: mine.stepCount, learningRate: mine.learningRate, buffers: whole) : nil
    }

    /// Collective: every replica takes the parameters and its shard of the optimizer state from
    /// `checkpoint`, which rank 0 passes (the others pass nil).
    func restore(from checkpoint: Checkpoint?) throws {
        let count = model.store.count
        try loadParameters(from: checkpoint?.parameters)
        try loadBuffers(from: checkpoint?.buffers)
        var scalars = [Double(checkpoint?.state.optimizerStepCount ?? 0), Double(checkpoint?.state.learningRate ?? 0)]
        try communicator.broadcast(&scalars, root: 0)
        var buffers: [String: [Float]] = [:]
        for name in optimizer.stateDict().buffers.keys.sorted() {
            var part = [Float](repeating: 0, count: slice.count)
            try part.withUnsafeMutableBufferPointer {
                try scatter(checkpoint?.optimizerBuffers[name], count: count, into: $0, what: "optimizer buffer '\(name)'")
            }
            buffers[name] = part
        }
        try optimizer.loadStateDict(OptimizerState(stepCount: Int(scalars[0]), learningRate: Float(scalars[1]), buffers: buffers))
    }

    /// Collective: every replica takes the flat parameters `values`, which rank 0 passes (the
    /// others pass nil): each rank its shard, then the all-gather makes every replica whole.
    func loadParameters(from values: [Float]?) throws {
        let buffer = model.store.values.buffer
        try scatter(values, count: model.store.count, into: UnsafeMutableBufferPointer(rebasing: buffer[slice]), what: "parameters")
        try communicator.allGather(buffer)
    }

    /// Collective: every replica takes the flat buffers (running statistics) `values`, which rank
    /// 0 passes (the others pass nil). Small: they travel as one broadcast.
    func loadBuffers(from values: [Float]?) throws {
        let block = model.bufferValues.buffer
        guard !block.isEmpty else { return }
        if communicator.rank == 0, values?.count != block.count {
            throw ConfigurationError("cannot resume: a damaged checkpoint: its buffers hold \(values?.count ?? 0) values, the model \(block.count)")
        }
        var doubles = (values ?? []).map(Double.init)
        if doubles.count != block.count { doubles = [Double](repeating: 0, count: block.count) }
        try communicator.broadcast(&doubles, root: 0)
        for i in block.indices { block[i] = Float(doubles[i]) }
    }

    /// The root checks that it has the buffer, whole; a missing one aborts every rank.
    private func scatter(_ whole: [Float]?, count: Int, into part: UnsafeMutableBufferPointer<Float>, what: String) throws {
        guard communicator.rank == 0 else { return try communicator.scatter(nil, count: count, into: part, root: 0) }
        guard let whole, whole.count == count else {
            throw ConfigurationError("cannot resume: a damaged checkpoint: its \(what) hold \(whole?.count ?? 0) values, the model \(count)")
        }
        try whole.withUnsafeBufferPointer { try communicator.scatter($0, count: count, into: part, root: 0) }
    }

    deinit { scalar.deallocate() }
}
