import Foundation
import Testing
@testable import Lockstep

/// What a tool author may get wrong is an error where it enters, never a trap on a worker thread.
@Suite struct CallerMistakesAreErrors {
    static let spec = ModelSpec.mlp(inputs: 2, hidden: [4], outputs: 3)

    func trainer(_ workers: Int = 2) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: Self.spec, loss: CrossEntropyLoss(),
                                optimizer: .sgd(lr: 0.1))
    }

    @Test(arguments: [Float(-1), 3, 1.5, .nan])
    func aClassIndexOutsideTheClassesIsAnError(bad: Float) throws {
        let features = Tensor([0, 1, 2, 3, 4, 5, 6, 7], shape: Shape(4, 2))
        #expect(throws: ConfigurationError.self) {   // where the data enters
            try Dataset(features: features, targets: Tensor([0, 1, bad, 2]), task: .classification, classLabels: ["a", "b", "c"])
        }
        var data = try Dataset(features: features, targets: Tensor([0, 1, 2, 2]), task: .classification, classLabels: ["a", "b", "c"])
        data.targets = Tensor([0, 1, bad, 2])   // a public property, changed after the checks: fit checks again
        #expect(throws: ConfigurationError.self) { try trainer().fit(data, epochs: 1, batchSize: 4) }
        #expect(throws: ConfigurationError.self) { _ = try trainer().gradient(of: data, rows: [0, 1, 2]) }
    }

    @Test func gradientRowsOutsideTheDataAreAnError() throws {
        let data = Dataset.blobs(count: 8, features: 2, classes: 3, seed: 1)
        #expect(throws: ConfigurationError.self) { _ = try trainer().gradient(of: data, rows: [0, 8]) }
    }

    /// A `fit` called while another runs on the same trainer (here from inside the first one's
    /// event handler, on another thread than the caller's, so the two surely overlap) is refused;
    /// the running fit goes on, and the trainer works as before afterwards.
    @Test func aSecondFitAtTheSameTimeIsRefused() throws {
        let data = Dataset.blobs(count: 64, features: 2, classes: 3, seed: 2)
        let t = try trainer(2)
        let second = Locked<String?>(nil)
        let result = try t.fit(data, epochs: 2, batchSize: 8) { event in
            guard case .stepEnded(_, 1, _) = event else { return }
            do { try t.fit(data, epochs: 1, batchSize: 8); second.withLock { $0 = "trained" } } catch {
                second.withLock { $0 = "\(error)" }
            }
        }
        #expect(result.steps == 16)
        #expect(second.withLock { $0 }?.contains("already running a fit") == true, "\(String(describing: second.withLock { $0 }))")
        try t.fit(data, epochs: 1, batchSize: 8)
    }
}

/// A stop belongs to one fit: the one running, or the one its token was given to.
@Suite struct StopsBelongToOneFit {
    static let data = Dataset.blobs(count: 200, features: 4, classes: 3, seed: 2)

    func trainer() throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [8], outputs: 3),
                                loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.05))
    }

    @Test func aStopWhileNoFitRunsDoesNotStopTheNextFit() throws {
        let t = try trainer()
        t.stop()
        let result = try t.fit(Self.data, epochs: 3, batchSize: 50)
        #expect(!result.stopped && result.steps == 12)
    }

    @Test func aTokenStoppedBeforeTheFitStartsEndsItAtItsFirstStep() throws {
        let token = StopToken()
        token.stop()
        var options = FitOptions(epochs: 3, batchSize: 50)
        options.stopToken = token
        let result = try trainer().fit(Self.data, options)
        #expect(result.stopped && result.steps == 1)
    }

    @Test func aTokenStopsOnlyTheFitItWasGiven() throws {
        let t = try trainer()
        let token = StopToken()
        var options = FitOptions(epochs: 3, batchSize: 50)
        options.stopToken = token
        let first = try t.fit(Self.data, options) { event in
            if case let .stepEnded(_, step, _) = event, step == 5 { token.stop() }
        }
        #expect(first.stopped && first.steps == 6)
        let second = try t.fit(Self.data, epochs: 3, batchSize: 50)
        #expect(!second.stopped && second.steps == 12)
    }

    @Test func aChildTokenStopsWithItsParent() {
        let parent = StopToken()
        let child = StopToken(parent: parent)
        #expect(!child.isStopped)
        parent.stop()
        #expect(child.isStopped && !StopToken(parent: StopToken()).isStopped)
    }
}

/// Two trainers in one process do not pin onto the same CPUs while others are free.
@Suite struct CPUsAcrossTrainers {
    @Test func aSecondTrainerTakesTheCPUsTheFirstLeftFree() {
        let allowed = [0, 1, 2, 3]
        #expect(CPUClaims.assign([0, 1], allowed: allowed, held: [:]) == [0, 1])
        #expect(CPUClaims.assign([0, 1], allowed: allowed, held: [0: 1, 1: 1]) == [2, 3])
        #expect(CPUClaims.assign([0, 1, 2], allowed: allowed, held: [0: 1, 1: 1]) == [2, 3, 0])   // all taken: the least loaded
        // One CPU of two held: the second worker shares it rather than doubling up on the other.
        #expect(CPUClaims.assign([0, 1], allowed: [0, 1], held: [0: 1]) == [1, 0])
        // A trainer's own oversubscribed workers keep sharing their CPUs.
        #expect(CPUClaims.assign([0, 1, 0, 1], allowed: [0, 1], held: [:]) == [0, 1, 0, 1])
    }

    @Test func claimsAreGivenBackWhenATrainerGoes() {
        let cpus = [1_000_001, 1_000_002]   // CPUs no other test's trainer uses
        let first = CPUClaims.claim([cpus[0]], allowed: cpus)
        let second = CPUClaims.claim([cpus[0]], allowed: cpus)
        #expect(first.cpus == [cpus[0]] && second.cpus == [cpus[1]] && !first.shared && !second.shared)
        let third = CPUClaims.claim([cpus[0]], allowed: cpus)
        #expect(third.cpus == [cpus[0]] && !third.shared)   // both held: it shares the least loaded, its own workers apart
        #expect(CPUClaims.claim([cpus[0], cpus[0]], allowed: [cpus[0]]).shared)   // its own two workers on one CPU
        CPUClaims.release([cpus[0], cpus[0]])
        CPUClaims.release(first.cpus + third.cpus)
        #expect(CPUClaims.claim([cpus[0]], allowed: cpus).cpus == [cpus[0]])
        CPUClaims.release(second.cpus + [cpus[0]])
    }
}

/// Data from a caller is checked where it enters, and a mistake is an error naming the row.
@Suite struct DataFromArrays {
    @Test func labelsBecomeTheirSortedDistinctClasses() throws {
        let data = try Dataset(features: [[1, 2], [3, 4], [5, 6], [7, 8]], labels: [3, 1, 2, 3])
        #expect(data.classLabels == ["1", "2", "3"])   // three classes, not four with an empty "0"
        #expect(data.targets.scalars == [2, 0, 1, 2])
        let named = try Dataset(features: [[1], [2]], labels: ["virginica", "setosa"])
        #expect(named.classLabels == ["setosa", "virginica"] && named.targets.scalars == [1, 0])
    }

    @Test func regressionTargetsKeepTheirValues() throws {
        let one = try Dataset(features: [[1], [2], [3]], targets: [1.9, 4.1, 6.0])
        #expect(one.task == .regression && one.targets.shape == Shape(3, 1) && one.outputCount == 1)
        let two = try Dataset(features: [[1], [2]], targets: [[1, 2], [3, 4]])
        #expect(two.outputCount == 2)
    }

    @Test func aMistakeThrowsNamingIt() {
        let cases: [(String, () throws -> Dataset, String)] = [
            ("ragged rows", { try Dataset(features: [[1, 2], [3]], labels: [0, 1]) }, "row 1 has 1 values, row 0 has 2"),
            ("fewer labels than rows", { try Dataset(features: [[1], [2]], labels: [0]) }, "1 labels for 2 rows"),
            ("a NaN feature", { try Dataset(features: [[1], [.nan]], targets: [0, 1]) }, "feature 0 of row 1 is nan"),
            ("an infinite target", { try Dataset(features: [[1], [2]], targets: [0, .infinity]) }, "row 1 has target inf"),
            ("ragged targets", { try Dataset(features: [[1], [2]], targets: [[0, 1], [2]]) }, "row 1 has 1 values"),
            ("names for other columns", { try Dataset(features: [[1, 2]], targets: [0], featureNames: ["a"]) }, "1 feature names for 2 features"),
        ]
        for (what, make, message) in cases {
            #expect(throws: ConfigurationError.self, "\(what)") { _ = try make() }
            do { _ = try make() } catch { #expect("\(error)".contains(message), "\(what): \(error)") }
        }
    }

    @Test func shapesThatDisagreeThrow() {
        #expect(throws: ConfigurationError.self) {
            try Dataset(features: Tensor([1, 2, 3], shape: Shape(3, 1)), targets: Tensor([0, 1]), task: .regression)
        }
        #expect(throws: ConfigurationError.self) { try Dataset(features: Tensor([1, 2, 3]), targets: Tensor([0, 1, 2]), task: .regression) }
    }
}

/// What a caller builds a trainer from is checked when it is built, never on a worker thread.
@Suite struct TrainerArgumentsAreChecked {
    @Test func aModelOrOptimizerThatCannotBeBuiltThrows() {
        let blobs = ModelSpec.mlp(inputs: 4, hidden: [8], outputs: 3)
        #expect(throws: ConfigurationError.self) {
            try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [0], outputs: 3),
                                    loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        }
        #expect(throws: ConfigurationError.self) {
            try DataParallelTrainer(workers: 2, topology: flatTopology(), model: ModelSpec(layers: []), loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        }
        for optimizer in [OptimizerSpec.sgd(lr: .nan), .sgd(lr: 0.1, momentum: -1), .adam(lr: 1e-3, beta1: 1), .adamW(lr: .infinity)] {
            #expect(throws: ConfigurationError.self, "\(optimizer)") {
                try DataParallelTrainer(workers: 2, topology: flatTopology(), model: blobs, loss: CrossEntropyLoss(), optimizer: optimizer)
            }
        }
    }

    @Test func aPointwiseLossNeedsOneOutputPerTargetColumn() throws {
        let t = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [8], outputs: 3),
                                        loss: MSELoss(), optimizer: .sgd(lr: 0.1))
        #expect { try t.fit(Dataset.blobs(count: 60, features: 4), epochs: 1, batchSize: 8) } throws: {
            "\($0)".hasPrefix("mse compares the model's 3 outputs with the training data's targets, which are 1 wide")
        }
    }

    @Test func evaluatingInBatchesOfZeroRowsStillEnds() throws {
        let data = Dataset.blobs(count: 30, features: 4)
        let model = ModelSpec.mlp(inputs: 4, hidden: [8], outputs: 3).build()
        #expect(try Evaluator.evaluate(model, on: data, loss: CrossEntropyLoss(), batchSize: 0).count == 30)
        #expect(try Evaluator.predict(model, data.features, batchSize: -3).shape == Shape(30, 3))
    }
}

/// The launcher and its collectives fail together, never hang, when a caller misuses them.
@Suite(hangLimit) struct CollectivesMisused {
    @Test func ranksInDifferentCollectivesFailTogether() throws {
        let launcher = try ThreadLauncher(ranks: 3)
        #expect { try launcher.run { rank, comm in
            if rank == 0 { try comm.barrier() } else { try comm.allGather(AlignedBuffer(count: 48).buffer) }
        } } throws: { "\($0)".contains("collectives out of step") }
        // Buffers of other sizes would be read past their end: refused instead.
        #expect { try launcher.run { rank, comm in
            let buffer = AlignedBuffer(count: rank == 0 ? 64 : 16)
            try withExtendedLifetime(buffer) { try comm.reduceScatter(buffer.buffer) }
        } } throws: { "\($0)".contains("reduceScatter of 64 elements") }
        try launcher.run { _, comm in try comm.barrier() }   // and the launcher works again
    }

    @Test func aGatherWhoseRootPassesNothingThrows() throws {
        let launcher = try ThreadLauncher(ranks: 2)
        #expect { try launcher.run { rank, comm in
            let part = [Float](repeating: 0, count: comm.shard(of: 32, rank: rank).count)
            try part.withUnsafeBufferPointer { try comm.gather($0, count: 32, into: nil, root: 0) }
        } } throws: { "\($0)".contains("the root (rank 0), and only it, passes a whole buffer") }
    }

    @Test func aRankThatEndsItsJobWhileOthersWaitIsAnErrorNotAHang() throws {
        let launcher = try ThreadLauncher(ranks: 3, spins: 0)
        #expect { try launcher.run { rank, comm in
            if rank != 1 { try comm.barrier() }   // rank 1 never comes
        } } throws: { "\($0)".contains("a rank's job ended without this collective") }
    }

    @Test func aJobCannotStartAnotherOnItsOwnLauncher() throws {
        let launcher = try ThreadLauncher(ranks: 2)
        #expect { try launcher.run { _, _ in try launcher.run { _, _ in } } } throws: { "\($0)".contains("would wait for itself") }
    }
}
