/// One worker of the data-parallel engine: a model replica with its own tape, arena, optimizer
/// shard and communicator rank. It runs on its pinned thread only.
///
/// One training step, as DESIGN.md §2 draws it:
/// gather the shard's rows → forward on the tape → loss ÷ global batch rows → zero grads →
/// backward into the flat gradient buffer → reduce-scatter (sum) → optimizer step on this rank's
/// slice → (the caller) all-gather of parameters.
final class Worker: @unchecked Sendable {
    let rank: Int
    let model: Sequential
    let tape: Tape
    let communicator: any Communicator
    let optimizer: any Optimizer
    /// This rank's slice of the flat buffers (the optimizer's range).
    let slice: Range<Int>
    /// The epoch's visiting order, reused from epoch to epoch.
    var order: [Int] = []
    /// Whether to time each phase of a step into `timings`.
    var profiling = false
    var timings = PhaseTimings()
    /// Room for the scalars of an all-reduce, allocated once.
    private let scalar = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1)

    /// `sharedValues`: the parameter buffer of another worker on this NUMA node, which this
    /// replica then shares (nil: a buffer of its own).
    init(rank: Int, spec: ModelSpec, seed: UInt64, optimizer: OptimizerSpec, communicator: any Communicator, numaNode: Int?,
         sharedValues: AlignedBuffer?) {
        self.rank = rank
        self.communicator = communicator
        model = spec.build(seed: seed, numaNode: numaNode, sharedValues: sharedValues)
        tape = Tape(arena: Arena(numaNode: numaNode))
        slice = communicator.shard(of: model.store.count, rank: rank)
        self.optimizer = optimizer.make(for: model.store, range: slice)
    }

    /// Forward and backward on `rows` (dataset row indices, this worker's shard of a batch of
    /// `batchRows`), then reduce-scatter and the optimizer step on this rank's slice. Returns
    /// this worker's share of the batch loss. The caller all-gathers the parameters after.
    ///
    /// Without clipping, the optimizer consumes the reduce-scatter's sums block by block (one pass
    /// over memory); clipping needs the whole gradient's norm first, so it sums, then steps.
    func trainStep(_ data: Dataset, rows: UnsafeBufferPointer<Int>, batchRows: Int, rowOffset: Int,
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
    func gradientStep(_ data: Dataset, rows: UnsafeBufferPointer<Int>, batchRows: Int, rowOffset: Int,
                      step: Int, seed: UInt64, loss: any Loss) throws -> Float {
        let value = try computeGradients(data, rows: rows, batchRows: batchRows, rowOffset: rowOffset, step: step, seed: seed, loss: loss)
        try communicator.reduceScatter(model.store.gradients.buffer)
        return value
    }

    /// Forward, loss, zero grads and backward into this replica's own gradient buffer. Returns
    /// this worker's share of the loss.
    private func computeGradients(_ data: Dataset, rows: UnsafeBufferPointer<Int>, batchRows: Int, rowOffset: Int,
                                  step: Int, seed: UInt64, loss: any Loss) throws -> Float {
        let start = profiling ? monotonicNanoseconds() : 0
        tape.reset()
        tape.seed = seed
        tape.step = step
        tape.rowOffset = rowOffset
        let n = rows.count, width = data.targetWidth
        let targetShape = data.targets.shape.rank == 1 ? Shape(n) : Shape(n, width)
        let targets = tape.arena.allocate(max(n * width, 1), zeroed: false)
        let x = tape.input(Shape(n, data.featureCount)) { dst in data.gather(rows, features: dst.baseAddress!, targets: targets) }
        let y = tape.leaf(data: targets, grad: nil, shape: targetShape)
        let l = loss(model(x), y, divisor: Float(batchRows))
        let value = l.item
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(worker: rank, step: step, value: value, lastCheckpoint: nil) }
        // Zero grads, the cheap way: backward overwrites instead of adding (set_to_none).
        model.store.markGradientsStale()
        l.backward()
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

    /// Every replica takes the other ranks' updated slices.
    func gatherParameters() throws {
        let start = profiling ? monotonicNanoseconds() : 0
        try communicator.allGather(model.store.values.buffer)
        if profiling {
            timings.allGatherSeconds += Double(monotonicNanoseconds() - start) * 1e-9
            timings.steps += 1
        }
    }

    deinit { scalar.deallocate() }
}
