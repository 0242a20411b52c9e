import Synchronization
import Testing
@testable import Lockstep

/// Workers are the arithmetic; threads are how it runs (DESIGN.md §7). With more workers than
/// CPUs a thread runs a block of workers in turn, switching between them at collectives: the
/// bytes are those of a thread per worker, batch norm's collective inside forward and backward
/// included, and a failure still stops every worker with one error.
@Suite struct WorkersBeyondThreads {
    static let blobs = Dataset.blobs(count: 96, features: 5, classes: 3, seed: 4)

    /// A trainer of `workers` workers on a machine of `cpus` CPUs (one thread per CPU at most).
    func trainer(_ workers: Int, cpus: Int, spec: ModelSpec = .mlp(inputs: 5, hidden: [16, 8], outputs: 3, dropout: 0.2),
                 share: Bool = true) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(cpus), model: spec, seed: 3,
                                loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2), shareParameters: share)
    }

    @Test func theTrainerRunsOneThreadPerCPUAndNoMore() throws {
        #expect(try trainer(8, cpus: 2).threadCount == 2)
        #expect(try trainer(8, cpus: 8).threadCount == 8)
        #expect(try trainer(3, cpus: 4).threadCount == 3)
        #expect(try trainer(1, cpus: 2).threadCount == 1)
    }

    /// 8 and 5 workers (blocks of 4 + 4 and 2 + 3), with dropout, sharded Adam, uneven shards
    /// (batch 10) and an empty one (the last batch of 6 rows over 8 workers).
    @Test(arguments: [(8, 2), (5, 2), (8, 3), (4, 1)])
    func workersOnFewerThreadsTrainTheBytesOfAThreadEach(workers: Int, cpus: Int) throws {
        func run(cpus: Int, share: Bool) throws -> [Float] {
            let t = try trainer(workers, cpus: cpus, share: share)
            try t.fit(Self.blobs, epochs: 3, batchSize: 10, seed: 6)
            for k in 1..<workers { #expect(bits(t.replicaParameters(k)) == bits(t.replicaParameters(0))) }
            return t.replicaParameters(0)
        }
        let threadEach = try run(cpus: workers, share: false)
        #expect(bits(try run(cpus: cpus, share: false)) == bits(threadEach))
        #expect(bits(try run(cpus: cpus, share: true)) == bits(threadEach))
    }

    /// Batch norm sums its statistics over every worker inside forward and backward: a thread
    /// steps its workers through each of those collectives in turn.
    @Test func batchNormsCollectivesRunThroughAThreadsWorkers() throws {
        let digits = try Dataset.readCSV(at: fixture("digits.csv")).reshapedSamples(to: [1, 8, 8]).subset(Array(0..<96))
        func run(cpus: Int) throws -> (parameters: [Float], buffers: [Float]) {
            let t = try DataParallelTrainer(workers: 4, topology: flatTopology(cpus), model: { DigitsCNN() }, seed: 5,
                                            loss: CrossEntropyLoss(), optimizer: .adam(lr: 3e-3))
            try t.fit(digits, epochs: 2, batchSize: 32, seed: 1)
            return (t.replicaParameters(0), t.replicaBuffers(0))
        }
        let threadEach = try run(cpus: 4), twoThreads = try run(cpus: 2), oneThread = try run(cpus: 1)
        #expect(bits(twoThreads.parameters) == bits(threadEach.parameters) && bits(twoThreads.buffers) == bits(threadEach.buffers))
        #expect(bits(oneThread.parameters) == bits(threadEach.parameters) && bits(oneThread.buffers) == bits(threadEach.buffers))
    }

    /// A thread sums its ranks first only where its block is a subtree of the ranks' summation
    /// tree and the threads' own tree is the rest of it: equal blocks of a power of two, two or more.
    @Test func aThreadSumsItsRanksFirstOnlyWhereItsRanksAreASubtree() {
        for (ranks, threads) in [(8, 2), (8, 4), (12, 3), (6, 3), (16, 2)] { #expect(ThreadGroup(ranks: ranks, threads: threads).sumsByThread) }
        for (ranks, threads) in [(6, 2), (7, 3), (8, 8), (8, 1), (12, 2)] { #expect(!ThreadGroup(ranks: ranks, threads: threads).sumsByThread) }
    }

    /// 8 ranks on 2 and 4 threads sum a small buffer by thread first (`ThreadGroup.sumsByThread`),
    /// a large one (over `partialFloats`) rank by rank; 7 on 3 and 3 on 1 always rank by rank.
    @Test(arguments: [(8, 2, 296), (8, 4, 296), (8, 2, 1500), (7, 3, 259), (3, 1, 111)])
    func everyCollectiveGivesTheSameValuesOnFewerThreads(ranks: Int, threads: Int, count: Int) throws {
        func collect(threads: Int) throws -> [[Float]] {
            let launcher = try ThreadLauncher(ranks: ranks, threads: threads)
            let out = Locked<[[Float]]>(Array(repeating: [], count: ranks))
            try launcher.run { rank, comm in
                let gradient = AlignedBuffer(count: count)
                for i in 0..<count { gradient.base[i] = Float(rank + 1) * 0.1 + Float(i) * 1e-3 }
                try comm.reduceScatter(gradient.buffer)
                try comm.allGather(gradient.buffer)
                var scalars = [Double(rank) * 0.3, 1e-9 * Double(rank)]
                try scalars.withUnsafeMutableBufferPointer { try comm.allReduce($0) }
                var whole = [Float](repeating: 0, count: count)
                let part = Array(UnsafeBufferPointer(rebasing: gradient.buffer[comm.shard(of: count, rank: rank)]))
                try part.withUnsafeBufferPointer { p in
                    try whole.withUnsafeMutableBufferPointer { try comm.gather(p, count: count, into: rank == 0 ? $0 : nil, root: 0) }
                }
                try withExtendedLifetime(gradient) { try comm.barrier() }
                out.withLock { $0[rank] = Array(gradient.buffer) + scalars.map(Float.init) + (rank == 0 ? whole : []) }
            }
            return out.withLock { $0 }
        }
        let threadEach = try collect(threads: ranks)
        #expect(try collect(threads: threads).map(bits) == threadEach.map(bits))
    }

    @Test(hangLimit)
    func aRankThatThrowsStopsEveryRankOfEveryThreadWithOneError() throws {
        let launcher = try ThreadLauncher(ranks: 6, threads: 2)
        var caught: WorkerFailure?
        do {
            try launcher.run { rank, comm in
                for round in 0..<100 {
                    if rank == 4 && round == 7 { throw ConfigurationError("rank 4 gives up") }
                    var x = [Double(rank)]
                    try x.withUnsafeMutableBufferPointer { try comm.allReduce($0) }
                }
            }
        } catch let failure as WorkerFailure { caught = failure }
        #expect(caught?.rank == 4)
        #expect(caught.map { "\($0.underlying)" }?.contains("rank 4 gives up") == true)
        // The group mends for the next job, rings included.
        try launcher.run { _, comm in try comm.barrier() }
    }

    /// A worker whose forward pass fails (an id outside its embedding) is named with its own step,
    /// whichever rank of its thread ran first (rank 0's count of steps may lag behind it).
    @Test(hangLimit, arguments: [8, 2])
    func aFailingWorkerIsNamedWithItsOwnStep(cpus: Int) throws {
        var data = try Dataset(features: Tensor((0..<64).map { Float($0 % 4) }, shape: Shape(64, 1)),
                               targets: Tensor((0..<64).map { Float($0 % 2) }), task: .classification)
        // Unshuffled, batches of 16 over 8 workers: step 3 (rows 32–47), worker 3 (rows 38–39), which
        // shares its thread with rank 0 when 2 CPUs run the 8 workers.
        data.features[39, 0] = 7
        let spec = ModelSpec(layers: [.embedding(count: 4, dim: 3), .flatten, .batchNorm1d(features: 3, eps: 1e-5, momentum: 0.1),
                                      .linear(inFeatures: 3, outFeatures: 2, bias: true)], inputShape: [1])
        let t = try DataParallelTrainer(workers: 8, topology: flatTopology(cpus), model: spec, loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        #expect { try t.fit(data, epochs: 1, batchSize: 16, shuffle: false) } throws: { error in
            guard case let TrainingError.workerFailed(worker, step, reason) = error else { return false }
            return worker == 3 && step == 3 && reason.contains("outside")
        }
    }

    @Test(hangLimit)
    func aRankWhoseJobEndsWhileItsThreadMatesWaitIsAnErrorNotAHang() throws {
        let launcher = try ThreadLauncher(ranks: 4, threads: 2)
        #expect {
            try launcher.run { rank, comm in
                if rank == 3 { return }   // rank 2, on the same thread, waits in a barrier rank 3 never calls
                try comm.barrier()
            }
        } throws: { "\($0)".contains("a party left") }
    }
}
