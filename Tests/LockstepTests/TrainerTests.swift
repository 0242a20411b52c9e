import Synchronization
import Testing
@testable import Lockstep

/// The data-parallel engine against its contracts (DESIGN.md §2–3).
@Suite struct TrainerEquivalenceAndDeterminism {
    static let data = Dataset.blobs(count: 64, features: 5, classes: 3, seed: 2)

    func trainer(_ workers: Int, spec: ModelSpec = .mlp(inputs: 5, hidden: [16, 8], outputs: 3),
                 optimizer: OptimizerSpec = .adam(lr: 1e-2)) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: spec, seed: 7,
                                loss: CrossEntropyLoss(), optimizer: optimizer)
    }

    /// Batches of 10 rows (uneven shards for 3, 4, 8 workers) and of 5 rows (empty shards for 8).
    @Test(arguments: [2, 3, 4, 8])
    func nWorkersComputeTheOneWorkerGradient(workers: Int) throws {
        for rows in [Array(0..<10), [3, 17, 40, 41, 63]] {
            let one = try trainer(1).gradient(of: Self.data, rows: rows)
            let many = try trainer(workers).gradient(of: Self.data, rows: rows)
            #expect(relativeDifference(many, one) <= 1e-5, "\(workers) workers, \(rows.count) rows")
            #expect(one.contains { $0 != 0 })
        }
    }

    @Test(arguments: [2, 3, 8])
    func dropoutDrawsTheSameMasksForAnyWorkerCount(workers: Int) throws {
        let spec = ModelSpec.mlp(inputs: 5, hidden: [32], outputs: 3, dropout: 0.5)
        let rows = Array(5..<29)
        let one = try trainer(1, spec: spec).gradient(of: Self.data, rows: rows, seed: 11, step: 3)
        let many = try trainer(workers, spec: spec).gradient(of: Self.data, rows: rows, seed: 11, step: 3)
        #expect(relativeDifference(many, one) <= 1e-5)
        // A different step draws different masks: the check above is not vacuous.
        let other = try trainer(1, spec: spec).gradient(of: Self.data, rows: rows, seed: 11, step: 4)
        #expect(relativeDifference(other, one) > 1e-3)
    }

    @Test func replicasAreBitIdenticalAfterEverySynchronizedStep() throws {
        let t = try trainer(3)
        try t.fit(Self.data, epochs: 3, batchSize: 10)
        let first = bits(t.replicaParameters(0))
        #expect(bits(t.replicaParameters(1)) == first)
        #expect(bits(t.replicaParameters(2)) == first)
        #expect(t.stepCount == 3 * 7)
    }

    @Test(arguments: [1, 4])
    func twoRunsWithTheSameSeedAreBitIdentical(workers: Int) throws {
        func run() throws -> [Float] {
            let t = try trainer(workers, optimizer: .sgd(lr: 0.05, momentum: 0.9))
            t.clipNorm = 0.5
            try t.fit(Self.data, epochs: 4, batchSize: 12, seed: 5)
            return t.replicaParameters(0)
        }
        #expect(bits(try run()) == bits(try run()))
    }

    /// Replicas each holding their parameters, refreshed by the all-gather, or (more workers than
    /// CPUs) sharing one buffer per NUMA node, with the all-gather between nodes: the same weights.
    @Test func sharedAndPrivateParameterBuffersTrainBitIdentically() throws {
        func run(share: Bool, topology: Topology) throws -> [Float] {
            let t = try DataParallelTrainer(workers: 4, topology: topology, model: .mlp(inputs: 5, hidden: [16], outputs: 3), seed: 7,
                                            loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2), shareParameters: share)
            try t.fit(Self.data, epochs: 3, batchSize: 10, seed: 2)
            for k in 1..<4 { #expect(bits(t.replicaParameters(k)) == bits(t.replicaParameters(0))) }
            return t.replicaParameters(0)
        }
        let own = try run(share: true, topology: flatTopology(4))   // a CPU each: nothing shared
        #expect(bits(try run(share: false, topology: flatTopology(2))) == bits(own))
        #expect(bits(try run(share: true, topology: flatTopology(2))) == bits(own))   // one node: one buffer
        #expect(bits(try run(share: true, topology: Topology(nodes: [[0], [1]]))) == bits(own))   // two nodes, two buffers
    }

    /// Without clipping the optimizer consumes the reduce-scatter's blocks directly; with a
    /// clipping norm too large to clip, the two run apart. The arithmetic is the same.
    @Test(arguments: [OptimizerSpec.sgd(lr: 0.05, momentum: 0.9), .adam(lr: 1e-2)])
    func theFusedStepEqualsSumThenStep(optimizer: OptimizerSpec) throws {
        func run(clip: Float?) throws -> [Float] {
            let t = try trainer(3, optimizer: optimizer)
            t.clipNorm = clip
            try t.fit(Self.data, epochs: 3, batchSize: 10, seed: 4)
            return t.replicaParameters(0)
        }
        #expect(bits(try run(clip: nil)) == bits(try run(clip: 1e30)))
    }

    @Test func nWorkersFollowOneWorkerThroughTraining() throws {
        let one = try trainer(1), four = try trainer(4)
        try one.fit(Self.data, epochs: 2, batchSize: 16, seed: 1)
        try four.fit(Self.data, epochs: 2, batchSize: 16, seed: 1)
        #expect(relativeDifference(four.replicaParameters(0), one.replicaParameters(0)) <= 1e-5)
    }
}

@Suite struct TrainerFailuresAndStopping {
    @Test(hangLimit)
    func eightWorkersOnTwoCoresFinish() throws {
        let data = Dataset.blobs(count: 400, features: 4, classes: 3, seed: 1)
        let t = try DataParallelTrainer(workers: 8, model: .mlp(inputs: 4, hidden: [16], outputs: 3),
                                        loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        let result = try t.fit(data, epochs: 5, batchSize: 32)
        #expect(result.steps == 5 * 13)
        #expect(result.history.last!.trainLoss < result.history.first!.trainLoss)
    }

    @Test(hangLimit)
    func aNaNLossInOneWorkerStopsAllAndNamesWorkerAndStep() throws {
        var data = Dataset.blobs(count: 40, features: 4, classes: 2, seed: 1)
        data.features[13, 2] = .nan   // unshuffled, batch 8 of 4 workers: step 1 (rows 8–15), worker 2 (rows 12–13)
        let t = try DataParallelTrainer(workers: 4, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [8], outputs: 2),
                                        loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        #expect { try t.fit(data, epochs: 1, batchSize: 8, shuffle: false) } throws: { error in
            guard case let TrainingError.nonFiniteLoss(worker, step, value, _) = error else { return false }
            return worker == 2 && step == 1 && value.isNaN
        }
    }

    @Test(hangLimit)
    func aTrainerRunsAgainAfterAFailedRun() throws {
        var data = Dataset.blobs(count: 40, features: 4, classes: 2, seed: 1)
        let good = data
        data.features[13, 2] = .nan
        let t = try DataParallelTrainer(workers: 4, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [8], outputs: 2),
                                        loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        #expect(throws: TrainingError.self) { try t.fit(data, epochs: 1, batchSize: 8, shuffle: false) }
        let result = try t.fit(good, epochs: 2, batchSize: 8)
        #expect(result.epochs == 2 && result.history.allSatisfy { $0.trainLoss.isFinite })
        for k in 1..<4 { #expect(bits(t.replicaParameters(k)) == bits(t.replicaParameters(0))) }
    }

    @Test(hangLimit)
    func stopEndsAfterTheCurrentStep() throws {
        let data = Dataset.blobs(count: 320, features: 4, classes: 3, seed: 1)
        let t = try DataParallelTrainer(workers: 3, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [8], outputs: 3),
                                        loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        let result = try t.fit(data, epochs: 10, batchSize: 32) { event in
            if case let .stepEnded(_, step, _) = event, step == 14 { t.stop() }
        }
        #expect(result.stopped)
        #expect(result.steps == 15)   // the stop is seen at the end of the next step
        #expect(result.epochs == 1)
        #expect(bits(t.replicaParameters(0)) == bits(t.replicaParameters(2)))
    }

    @Test func impossibleConfigurationsAreRefused() throws {
        #expect(throws: ConfigurationError.self) {
            try DataParallelTrainer(workers: 0, model: .mlp(inputs: 4, hidden: [], outputs: 1), loss: MSELoss(), optimizer: .sgd(lr: 0.1))
        }
        let t = try DataParallelTrainer(workers: 8, topology: flatTopology(), model: .mlp(inputs: 1, hidden: [], outputs: 1),
                                        loss: MSELoss(), optimizer: .sgd(lr: 0.1))
        #expect { try t.fit(Dataset.linear(count: 100), epochs: 1, batchSize: 3) } throws: {
            "\($0)" == "batch size 3 is smaller than the worker count 8: every worker needs at least one row"
        }
        var twoFeatures = Dataset.blobs(count: 100, features: 2, classes: 2)
        twoFeatures.task = .regression
        #expect { try t.fit(twoFeatures, epochs: 1, batchSize: 8) } throws: {
            "\($0)" == "the training data has 2 features, the model takes 1"
        }
        #expect { try t.fit(Dataset.blobs(count: 100, features: 1, classes: 2), epochs: 1, batchSize: 8) } throws: {
            "\($0)" == "the training data has 2 classes, the model gives 1 outputs"
        }
    }
}
