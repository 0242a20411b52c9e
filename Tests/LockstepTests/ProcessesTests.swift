import Foundation
import Testing
@testable import Lockstep

/// A job over processes (DESIGN.md §7): P processes × W workers each train the bytes of one
/// process with P·W workers when W is a power of two — the threads sum a subtree of the global
/// pairwise tree and the processes continue it with messages in a fixed pairing. Global rank 0
/// alone reads the checkpoint and writes files; the others learn the starting point from it.
/// The processes here are simulated (`LoopbackNetwork`); `make test` runs the same over MPI.
@Suite struct Processes {
    static let blobs = Dataset.blobs(count: 90, features: 5, classes: 3, seed: 4)
    static let spec = ModelSpec.mlp(inputs: 5, hidden: [16, 8], outputs: 3, dropout: 0.2)

    func trainer(_ workers: Int, processes: (any ProcessTransport)? = nil, spec: ModelSpec = spec) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(workers), pin: false, model: spec, seed: 3,
                                loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2), clipNorm: 5, processes: processes)
    }

    /// Trains on every process of a loopback job; each process's first replica's parameters and buffers.
    func job(processes: Int, workers: Int, spec: ModelSpec = spec, data: Dataset = blobs,
             _ fit: @escaping @Sendable (DataParallelTrainer, Int) throws -> Void) throws -> [(parameters: [Float], buffers: [Float])] {
        let network = LoopbackNetwork(processes: processes)
        return try network.run { p in
            let t = try self.trainer(workers, processes: network.transport(p), spec: spec)
            try fit(t, p)
            for k in t.localWorkers { #expect(bits(t.replicaParameters(k)) == bits(t.model.store.values.buffer.map { $0 })) }
            return (Array(t.model.store.values.buffer), Array(t.model.bufferValues.buffer))
        }.map { try $0.get() }
    }

    /// Dropout, sharded Adam, clipping (an all-reduce of the squared norm), uneven shards (batch
    /// 10 over 4 or 6 workers) and an epoch's short last batch.
    @Test(arguments: [(2, 2), (4, 1), (2, 1), (3, 2), (2, 4)])
    func processesTimesWorkersTrainTheBytesOfOneProcess(processes: Int, workers: Int) throws {
        let one = try trainer(processes * workers)
        try one.fit(Self.blobs, epochs: 3, batchSize: 10, seed: 6)
        let job = try self.job(processes: processes, workers: workers) { t, _ in try t.fit(Self.blobs, epochs: 3, batchSize: 10, seed: 6) }
        for process in job { #expect(bits(process.parameters) == bits(one.replicaParameters(0))) }
    }

    /// Every collective over P processes × W ranks gives every rank the bytes one process with
    /// P·W ranks gives it: buffers of no element, fewer elements than ranks, and several chunks
    /// for two processes (600 k floats); gather and scatter to the first and to the last rank.
    @Test(arguments: [(2, 2), (3, 1), (4, 2), (8, 1), (6, 1)])
    func everyCollectiveGivesOneProcesssBytes(processes: Int, workers: Int) throws {
        let world = processes * workers
        @Sendable func collectives(_ rank: Int, _ c: any Communicator) throws -> [Float] {
            var out: [Float] = []
            for count in [0, 5, 100, 600_017] {
                let buffer = AlignedBuffer(count: count)
                for i in 0..<count { buffer.base[i] = Float(sin(Double(rank * 7919 + i))) * Float(1 + (i % 13)) }
                try c.reduceScatter(buffer.buffer)
                let word = try c.allGather(buffer.buffer, broadcasting: 40 + rank)
                out += Array(buffer.buffer.prefix(1000)) + Array(buffer.buffer.suffix(1000)) + [Float(word)]
                for root in [0, world - 1] {
                    let mine = c.shard(of: count, rank: rank)
                    let part = (0..<mine.count).map { Float(rank) + Float($0) / 8 }
                    var whole = [Float](repeating: -1, count: count)
                    try part.withUnsafeBufferPointer { part in
                        try whole.withUnsafeMutableBufferPointer { try c.gather(part, count: count, into: rank == root ? $0 : nil, root: root) }
                    }
                    var back = [Float](repeating: -1, count: mine.count)
                    try back.withUnsafeMutableBufferPointer { back in
                        try whole.withUnsafeBufferPointer { try c.scatter(rank == root ? $0 : nil, count: count, into: back, root: root) }
                    }
                    out += (rank == root ? Array(whole.suffix(100)) : []) + back.prefix(50)
                }
                try c.barrier()   // every rank's buffer stays alive until the others have read it
            }
            var sums = (0..<2500).map { Double(rank) * 0.1 + Double($0) / 3 }
            try c.allReduce(&sums)
            return out + sums.map(Float.init)
        }
        let reference = Locked<[[Float]]>(Array(repeating: [], count: world))
        try ThreadLauncher(ranks: world).run { rank, c in let r = try collectives(rank, c); reference.withLock { $0[rank] = r } }
        let network = LoopbackNetwork(processes: processes)
        let job = Locked<[[Float]]>(Array(repeating: [], count: world))
        for result in network.run({ p in
            try ThreadLauncher(ranks: workers, across: network.transport(p)).run { rank, c in
                let r = try collectives(rank, c)
                job.withLock { $0[rank] = r }
            }
        }) { try result.get() }
        for rank in 0..<world { #expect(bits(job.withLock { $0[rank] }) == bits(reference.withLock { $0[rank] }), "rank \(rank)") }
    }

    /// Batch norm's statistics are summed over every worker of every process, inside forward and backward.
    @Test func batchNormsStatisticsSpanTheProcesses() throws {
        let spec = ModelSpec(layers: [.linear(inFeatures: 5, outFeatures: 12, bias: true), .batchNorm1d(features: 12, eps: 1e-5, momentum: 0.1),
                                      .relu, .linear(inFeatures: 12, outFeatures: 3, bias: true)])
        let one = try trainer(4, spec: spec)
        try one.fit(Self.blobs, epochs: 2, batchSize: 16, seed: 2)
        let job = try self.job(processes: 2, workers: 2, spec: spec) { t, _ in try t.fit(Self.blobs, epochs: 2, batchSize: 16, seed: 2) }
        for process in job {
            #expect(bits(process.parameters) == bits(one.replicaParameters(0)))
            #expect(bits(process.buffers) == bits(one.replicaBuffers(0)))
        }
    }

    /// The gradient of one global batch, summed across processes and gathered on every one.
    @Test func theGradientOfABatchIsOneProcesss() throws {
        let rows = Array(0..<37)
        let one = try trainer(4).gradient(of: Self.blobs, rows: rows)
        let network = LoopbackNetwork(processes: 2)
        let grads = network.run { p in try self.trainer(2, processes: network.transport(p)).gradient(of: Self.blobs, rows: rows) }
        for g in grads { #expect(bits(try g.get()) == bits(one)) }
    }

    /// Rank 0 alone writes checkpoints; a job stopped mid-epoch (rank 0's decision reaches
    /// every process) resumes from rank 0's checkpoint — which rank 0 alone reads — and ends
    /// bit-identical to the uninterrupted job.
    @Test func aStoppedJobResumesFromRankZerosCheckpointBitIdentically() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let options = FitOptions(epochs: 4, batchSize: 10, seed: 6)
        let whole = try job(processes: 2, workers: 2) { t, _ in try t.fit(Self.blobs, options) }
        let last = Locked<String?>(nil)
        _ = try job(processes: 2, workers: 2) { t, p in
            var o = options
            o.checkpoints = CheckpointPolicy(directory: directory.path, everyEpochs: 1, keep: 10)
            let result = try t.fit(Self.blobs, o) { event in
                if case let .stepEnded(_, step, _) = event, step == 13 { t.stop() }
            }
            #expect(result.stopped && result.epochs == 1 && t.stepCount == 14)   // a stop takes effect at the next step's end
            if p == 0 { last.withLock { $0 = result.lastCheckpoint } } else { #expect(result.lastCheckpoint == nil) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["run-0"])   // one run: rank 0's
        let checkpoint = try Checkpoint.read(at: try #require(last.withLock { $0 }))
        #expect(checkpoint.state.step == 14 && checkpoint.state.workers == 4)
        let resumed = try job(processes: 2, workers: 2) { t, p in
            var o = options
            if p == 0 { o.resume = checkpoint }
            try t.fit(Self.blobs, o)
            #expect(t.stepCount == 4 * 9)
        }
        for k in 0..<2 { #expect(bits(resumed[k].parameters) == bits(whole[0].parameters)) }
    }

    /// A process that read other data fails the job on every process, naming itself and its host.
    @Test func aProcessWithOtherDataStopsTheJobNamingItsHost() throws {
        let network = LoopbackNetwork(processes: 2)
        let other = Dataset.blobs(count: 90, features: 5, classes: 3, seed: 5)
        let results = network.run { p in
            try self.trainer(1, processes: network.transport(p)).fit(p == 1 ? other : Self.blobs, epochs: 1, batchSize: 10)
        }
        #expect(throws: (any Error).self) { try results[0].get() }
        #expect { try results[1].get() } throws: { "\($0)".hasPrefix("process 1 on loopback1 trains another run than process 0") }
    }

    /// Processes started with different settings stop before any message of a size the others do
    /// not expect, every one with an error naming the one that differs: another worker count,
    /// another seed (another model), another number of epochs (which would leave the others
    /// waiting for its steps).
    @Test func processesWithOtherSettingsStopTheJobNamingTheOneThatDiffers() throws {
        let network = LoopbackNetwork(processes: 2)
        let workers = network.run { p in _ = try ThreadLauncher(ranks: p == 1 ? 1 : 2, across: network.transport(p)) }
        for p in 0..<2 {
            #expect { try workers[p].get() } throws: {
                "\($0)" == "process 1 on loopback1 runs 1 workers, process 0 runs 2: start every process with the same --workers"
            }
        }

        let seeds = LoopbackNetwork(processes: 2)
        let models = seeds.run { p in
            _ = try DataParallelTrainer(workers: 2, topology: flatTopology(2), pin: false, model: Self.spec, seed: p == 1 ? 4 : 3,
                                        loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2), processes: seeds.transport(p))
        }
        #expect { try models[0].get() } throws: { "\($0)".hasPrefix("process 1 on loopback1 builds another model than process 0") }
        #expect { try models[1].get() } throws: { "\($0)".hasPrefix("process 1 on loopback1 builds another model than process 0") }

        let epochs = LoopbackNetwork(processes: 2)
        let fits = epochs.run { p in try self.trainer(2, processes: epochs.transport(p)).fit(Self.blobs, epochs: p == 1 ? 3 : 5, batchSize: 10) }
        #expect { try fits[0].get() } throws: { "\($0)".hasPrefix("process 1 on loopback1 trains another run than process 0") }
        #expect { try fits[1].get() } throws: { "\($0)".hasPrefix("process 1 on loopback1 trains another run than process 0") }
    }

    /// A worker that fails on one process (its loss is not finite) stops its process at once;
    /// once the transport is aborted (MPI_Abort, here the network's), the other processes' fits
    /// throw too: no hang.
    @Test func aFailingWorkerEndsEveryProcesssFit() throws {
        let network = LoopbackNetwork(processes: 2)
        let results = network.run { p in
            try self.trainer(2, processes: network.transport(p)).fit(p == 1 ? PoisonedAfter(calls: 12) : Self.blobs, epochs: 9, batchSize: 30, seed: 1)
        }
        #expect { try results[1].get() } throws: { "\($0)".contains("not finite") || "\($0)".contains("NaN") || "\($0)".contains("nan") }
        #expect(throws: (any Error).self) { try results[0].get() }
        #expect(throws: (any Error).self) { try results[1].get() }
    }

    /// A rank that leaves while another rank of its process waits is named by its rank in the
    /// job, as every other message names ranks.
    @Test(hangLimit)
    func aRankThatLeavesEarlyIsNamedByItsRankInTheJob() throws {
        let network = LoopbackNetwork(processes: 2)
        let results = network.run { p in
            try ThreadLauncher(ranks: 2, across: network.transport(p)).run { rank, c in
                try c.barrier()
                if rank == 3 { try c.barrier() }
            }
        }
        #expect { try results[1].get() } throws: { "\($0)".contains("collectives each rank entered: rank 2: 1, the last barrier; rank 3: 2, the last barrier") }
    }
}

/// The blobs, whose features turn NaN after `calls` gathers (on one process: a worker's loss fails mid-run).
private final class PoisonedAfter: DataSource, @unchecked Sendable {
    let data = Processes.blobs
    let calls: Int
    private let gathered = Locked(0)
    init(calls: Int) { self.calls = calls }
    var count: Int { data.count }
    var sampleShape: Shape { data.sampleShape }
    var targetShape: Shape { data.targetShape }
    var task: LearningTask { data.task }
    var classCount: Int { data.classCount }
    func fingerprint() -> DataFingerprint { data.fingerprint() }
    func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>) {
        data.gather(rows, features: features, targets: targets)
        if gathered.withLock({ $0 += 1; return $0 }) > calls { features[0] = .nan }
    }
}
