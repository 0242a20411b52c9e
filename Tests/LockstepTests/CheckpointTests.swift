import Foundation
import Testing
@testable import Lockstep

/// A loss that turns NaN at one optimizer step: a divergence on cue.
struct NaNAtStep: Loss {
    let step: Int
    func callAsFunction(_ prediction: Variable, _ target: Variable, divisor: Float?) -> Variable {
        let loss = prediction.crossEntropyLoss(target, divisor: divisor ?? Float(prediction.shape.rows))
        return prediction.tape.step == step ? loss * .nan : loss
    }
    var name: String { "cross-entropy" }
    var expectsClassIndices: Bool { true }
}

/// Checkpoints and resume (DESIGN.md §3): an interrupted and resumed run ends bit-identical to
/// the uninterrupted one.
@Suite struct TrainerCheckpointsAndResume {
    static let data = Dataset.blobs(count: 200, features: 6, classes: 3, seed: 4)
    static let split = try! data.split(testFraction: 0.2, validationFraction: 0.2, seed: 1)

    func trainer(_ workers: Int, model: ModelSpec = .mlp(inputs: 6, hidden: [16], outputs: 3, dropout: 0.2),
                 batchSize: Int = 24) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: model, seed: 3, loss: CrossEntropyLoss(),
                                optimizer: .adam(lr: 5e-3), schedule: .cosine(totalSteps: 60, minimum: 1e-4), warmupSteps: 5,
                                clipNorm: 1)
    }

    func options(_ directory: URL?, epochs: Int = 8, batchSize: Int = 24) -> FitOptions {
        var o = FitOptions(epochs: epochs, batchSize: batchSize, seed: 9)
        o.validation = Self.split.validation
        o.test = Self.split.test
        o.keepBest = true
        o.earlyStopping = EarlyStopping(metric: .validationLoss, patience: 100)
        o.checkpoints = directory.map { CheckpointPolicy(directory: $0.path, everyEpochs: 2, keep: 10) }
        return o
    }

    /// Reports without their timings, which are the only figures allowed to differ.
    func timeless(_ history: [EpochReport]) -> [EpochReport] {
        history.map { var r = $0; r.samplesPerSecond = 0; r.elapsedSeconds = 0; return r }
    }

    @Test(arguments: [(2, 7), (2, 12), (3, 5)])
    func stoppedAndResumedEndsBitIdentical(workers: Int, stopAtStep: Int) throws {
        let whole = try trainer(workers)
        let uninterrupted = try whole.fit(Self.split.train, options(try temporaryDirectory()))

        let directory = try temporaryDirectory()
        let first = try trainer(workers)
        let stopped = try first.fit(Self.split.train, options(directory)) { event in
            if case let .stepEnded(_, step, _) = event, step == stopAtStep { first.stop() }
        }
        #expect(stopped.stopped)
        let path = try #require(stopped.lastCheckpoint)
        #expect(path == Checkpoint.latest(in: directory.appendingPathComponent("run-0").path))

        // Continue the newest run in its own folder, as `lockstep train --resume` does.
        let point = try ResumePoint.newest(in: directory.path)
        #expect(point.path == path)
        let second = try trainer(workers)
        var resumed = options(nil)
        resumed.resume = point.checkpoint
        resumed.checkpoints = CheckpointPolicy(run: try RunDirectory.open(try #require(point.runDirectory)), everyEpochs: 2, keep: 10)
        let finished = try second.fit(Self.split.train, resumed)
        #expect(RunDirectory.runs(in: directory.path).count == 1)

        #expect(bits(second.replicaParameters(0)) == bits(whole.replicaParameters(0)))
        #expect(timeless(finished.history) == timeless(uninterrupted.history))
        let (bestResumed, bestWhole) = (try #require(second.bestModel()), try #require(whole.bestModel()))
        #expect(bits(Array(bestResumed.store.values.buffer)) == bits(Array(bestWhole.store.values.buffer)))
        #expect(second.stepCount == whole.stepCount)
    }

    @Test func resumingFromAnEpochCheckpointOfTheUninterruptedRun() throws {
        let directory = try temporaryDirectory()
        let whole = try trainer(2)
        try whole.fit(Self.split.train, options(directory))
        let files = Checkpoint.files(in: directory.appendingPathComponent("run-0").path)
        #expect(files.count == 4)   // every 2 epochs of 8
        let resumedTrainer = try trainer(2)
        var resumed = options(nil)
        resumed.resume = try Checkpoint.read(at: files[1])   // after epoch 4
        try resumedTrainer.fit(Self.split.train, resumed)
        #expect(bits(resumedTrainer.replicaParameters(0)) == bits(whole.replicaParameters(0)))
    }

    @Test func anotherWorkerCountResumesWithAWarning() throws {
        let directory = try temporaryDirectory()
        let first = try trainer(2)
        try first.fit(Self.split.train, options(directory, epochs: 4))
        let warnings = Locked<[String]>([])
        let other = try trainer(3)
        var resumed = options(nil, epochs: 6)
        resumed.resume = try ResumePoint.newest(in: directory.path).checkpoint
        let result = try other.fit(Self.split.train, resumed) { event in
            if case let .warning(text) = event { warnings.withLock { $0.append(text) } }
        }
        #expect(result.epochs == 6)
        #expect(warnings.withLock { $0 }.contains {
            $0 == "resuming with 3 workers from a checkpoint of 2: the run will no longer be bit-identical to an uninterrupted one"
        })
    }

    @Test func aCheckpointWhoseSumsOrBuffersAreNotFiniteIsRefusedBeforeTraining() throws {
        let directory = try temporaryDirectory()
        try trainer(2).fit(Self.split.train, options(directory, epochs: 2))
        let good = try ResumePoint.newest(in: directory.path).checkpoint
        var hugeSum = good
        hugeSum.state.epochLossSum = 1e308
        var nanMomentum = good
        nanMomentum.optimizerBuffers[nanMomentum.optimizerBuffers.keys.sorted()[0]]![3] = .nan
        for (damaged, message) in [(hugeSum, "'epoch_loss_sum' is 1e+308"), (nanMomentum, "holds values that are not finite")] {
            var o = options(nil)
            o.resume = damaged
            #expect { try trainer(2).fit(Self.split.train, o) } throws: { "\($0)".contains(message) }
        }
    }

    /// A checkpoint's tensors carry an XXH3 of their values: one flipped bit in a tensor makes it a
    /// damaged checkpoint (it resumed without complaint before); one written before the checksum
    /// existed still reads.
    @Test func aFlippedBitInATensorIsADamagedCheckpoint() throws {
        let directory = try temporaryDirectory()
        try trainer(2).fit(Self.split.train, options(directory, epochs: 2))
        let path = try ResumePoint.newest(in: directory.path).path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 4] ^= 0x01   // the last value's lowest bit: still finite, still in range
        let damaged = directory.appendingPathComponent("damaged.safetensors").path
        try bytes.write(to: URL(fileURLWithPath: damaged))
        #expect { try Checkpoint.read(at: damaged) } throws: {
            "\($0)" == "\(damaged): a damaged checkpoint: its tensors do not match the checksum written with them"
        }
        // A checkpoint of before the checksums (schema version 1, none written) reads as before;
        // one of version 2 whose checksum is gone (a damaged key) does not.
        var file = try SafeTensors.read(at: path)
        #expect(file.metadata[Checkpoint.tensorsDigestKey] != nil && file.metadata[Checkpoint.stateDigestKey] != nil)
        file.metadata[Checkpoint.tensorsDigestKey] = nil
        let keyless = directory.appendingPathComponent("keyless.safetensors").path
        try file.write(to: keyless)
        #expect { try Checkpoint.read(at: keyless) } throws: { "\($0)" == "\(keyless): a damaged checkpoint: its checksums are missing" }
        file.metadata[Checkpoint.stateDigestKey] = nil
        let json = try #require(file.metadata["lockstep_checkpoint"])
        #expect(json.contains("\"schema_version\":2"))
        file.metadata["lockstep_checkpoint"] = json.replacingOccurrences(of: "\"schema_version\":2", with: "\"schema_version\":1")
        let older = directory.appendingPathComponent("older.safetensors").path
        try file.write(to: older)
        #expect(try Checkpoint.read(at: older).parameters == Checkpoint.read(at: path).parameters)
    }

    /// One byte of the state changed (the step count, in the file's own JSON) is a damaged
    /// checkpoint, not another place in the run to resume from.
    @Test func anEditedStateIsADamagedCheckpoint() throws {
        let directory = try temporaryDirectory()
        try trainer(2).fit(Self.split.train, options(directory, epochs: 2))
        let path = try ResumePoint.newest(in: directory.path).path
        var file = try SafeTensors.read(at: path)
        let json = try #require(file.metadata["lockstep_checkpoint"])
        let step = try Checkpoint.read(at: path).state.step
        #expect(json.contains("\"step\":\(step),"))
        file.metadata["lockstep_checkpoint"] = json.replacingOccurrences(of: "\"step\":\(step),", with: "\"step\":\(step + 1),")
        let edited = directory.appendingPathComponent("edited.safetensors").path
        try file.write(to: edited)
        #expect { try Checkpoint.read(at: edited) } throws: {
            "\($0)" == "\(edited): a damaged checkpoint: its state does not match the checksum written with it"
        }
    }

    /// A checkpoint written before fingerprints were XXH3 holds the data's SHA-256: it still
    /// resumes (bit-identical) when the data's SHA-256 matches, and is refused, saying so, when
    /// it does not or when the data cannot be hashed that way.
    @Test func aCheckpointFingerprintedWithSHA256StillResumes() throws {
        let whole = try trainer(2)
        try whole.fit(Self.split.train, options(try temporaryDirectory()))
        let directory = try temporaryDirectory()
        try trainer(2).fit(Self.split.train, options(directory, epochs: 4))
        var older = try ResumePoint.newest(in: directory.path).checkpoint
        #expect(older.state.data.hash == .xxh3)
        older.state.data = DataFingerprint(of: Self.split.train, description: older.state.data.description, hash: .sha256)

        var resumed = options(nil)
        resumed.resume = older
        let second = try trainer(2)
        try second.fit(Self.split.train, resumed)
        #expect(bits(second.replicaParameters(0)) == bits(whole.replicaParameters(0)))

        var otherData = older
        otherData.state.data.digest = String(repeating: "0", count: 64)
        resumed.resume = otherData
        #expect { try trainer(2).fit(Self.split.train, resumed) } throws: {
            "\($0)".hasPrefix("cannot resume: the data differs (checkpoint: in-memory data set, sha256 000000000000…; now: in-memory data set, sha256 ")
        }
        // A fingerprint given without a way to make its SHA-256 cannot be compared.
        resumed.resume = older
        resumed.dataFingerprint = DataFingerprint(digest: "given", description: older.state.data.description)
        #expect { try trainer(2).fit(Self.split.train, resumed) } throws: {
            "\($0)".hasPrefix("cannot resume: the checkpoint fingerprints its data with sha256 (written before Lockstep hashed data with XXH3)")
        }
        let olderData = older.state.data
        resumed.legacyDataFingerprint = { olderData }
        try trainer(2).fit(Self.split.train, resumed)
    }

    @Test func aCheckpointOfAnotherRunIsRefusedSayingWhatDiffers() throws {
        let directory = try temporaryDirectory()
        try trainer(2).fit(Self.split.train, options(directory, epochs: 2))
        let checkpoint = try ResumePoint.newest(in: directory.path).checkpoint

        var otherBatch = options(nil, batchSize: 32)
        otherBatch.resume = checkpoint
        #expect { try trainer(2).fit(Self.split.train, otherBatch) } throws: {
            "\($0)" == "cannot resume: the checkpoint's run differs: batch size 24 ≠ 32"
        }
        var sameOptions = options(nil)
        sameOptions.resume = checkpoint
        let wider = ModelSpec.mlp(inputs: 6, hidden: [32], outputs: 3, dropout: 0.2)
        #expect { try trainer(2, model: wider).fit(Self.split.train, sameOptions) } throws: {
            "\($0)".hasPrefix("cannot resume: the checkpoint's run differs: model Sequential(Linear(6→16)")
        }
        #expect { try trainer(2).fit(Self.split.test, sameOptions) } throws: {
            "\($0)".hasPrefix("cannot resume: the data differs")
        }
    }

    @Test(hangLimit)
    func aNaNLossLeavesTheLastGoodCheckpointAndNamesIt() throws {
        let directory = try temporaryDirectory()
        let t = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 6, hidden: [8], outputs: 3),
                                        loss: NaNAtStep(step: 17), optimizer: .sgd(lr: 0.1))
        var o = FitOptions(epochs: 10, batchSize: 24)
        o.checkpoints = CheckpointPolicy(directory: directory.path, everyEpochs: 1)
        // 120 rows / 24 = 5 steps an epoch: the checkpoint after epoch 3 is at step 15.
        let run = directory.appendingPathComponent("run-0")
        let good = run.appendingPathComponent(Checkpoint.fileName(step: 15)).path
        #expect { try t.fit(Self.split.train, o) } throws: { error in
            "\(error)" == "worker 0, step 17: the loss is nan; training stopped. The last good checkpoint is \(good): resume from it with a lower learning rate"
        }
        let checkpoint = try Checkpoint.read(at: good)
        #expect(checkpoint.state.step == 15 && checkpoint.parameters.allSatisfy(\.isFinite))
        #expect(Checkpoint.latest(in: run.path) == good)
    }

    @Test func eachFitWritesIntoARunFolderOfItsOwnAndAFailedOneLeavesNone() throws {
        let directory = try temporaryDirectory()
        var o = options(directory, epochs: 2)
        try trainer(1).fit(Self.split.train, o)
        try trainer(1).fit(Self.split.train, o)
        #expect(RunDirectory.runs(in: directory.path).map { ($0 as NSString).lastPathComponent } == ["run-1", "run-0"])
        // A NaN at step 2, before any checkpoint: the run folder it made goes again.
        let failing = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 6, hidden: [8], outputs: 3),
                                              loss: NaNAtStep(step: 2), optimizer: .sgd(lr: 0.1))
        o.keepBest = false
        #expect(throws: TrainingError.self) { try failing.fit(Self.split.train, o) }
        #expect(RunDirectory.runs(in: directory.path).count == 2)
    }

    @Test func onlyTheNewestCheckpointsAreKept() throws {
        let directory = try temporaryDirectory()
        var o = options(directory, epochs: 8)
        o.checkpoints = CheckpointPolicy(directory: directory.path, everyEpochs: 1, keep: 3)
        try trainer(1).fit(Self.split.train, o)
        #expect(Checkpoint.files(in: directory.appendingPathComponent("run-0").path).map { ($0 as NSString).lastPathComponent }
                == [Checkpoint.fileName(step: 30), Checkpoint.fileName(step: 35), Checkpoint.fileName(step: 40)])
    }

    @Test func aCheckpointKeepsTheLatestReportsOnly() throws {
        let directory = try temporaryDirectory()
        let tiny = Dataset.blobs(count: 8, features: 2, classes: 2, seed: 1)
        let t = try DataParallelTrainer(workers: 1, topology: flatTopology(), model: .mlp(inputs: 2, hidden: [], outputs: 2),
                                        loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.01))
        var o = FitOptions(epochs: Checkpoint.historyLimit + 3, batchSize: 8)
        o.checkpoints = CheckpointPolicy(directory: directory.path, everyEpochs: Checkpoint.historyLimit + 3)
        let result = try t.fit(tiny, o)
        #expect(result.history.count == Checkpoint.historyLimit + 3)
        let history = try Checkpoint.read(at: try #require(result.lastCheckpoint)).state.history
        #expect(history.count == Checkpoint.historyLimit && history.first?.epoch == 3 && history.last?.epoch == Checkpoint.historyLimit + 2)
    }

    @Test func aFolderNamedLikeACheckpointIsNotOne() throws {
        let directory = try temporaryDirectory()
        try trainer(1).fit(Self.split.train, options(directory, epochs: 2))
        let run = directory.appendingPathComponent("run-0").path
        let written = Checkpoint.files(in: run)
        #expect(!written.isEmpty)
        let impostor = PathText.joined(run, Checkpoint.fileName(step: 999))
        #expect(mkdir(impostor, 0o755) == 0)
        #expect(mkfifo(PathText.joined(run, Checkpoint.fileName(step: 998)), 0o644) == 0)
        #expect(symlink(PathText.lastComponent(of: written[0]), PathText.joined(run, Checkpoint.fileName(step: 997))) == 0)
        #expect(Checkpoint.files(in: run) == written)
        #expect(Checkpoint.latest(in: run) == written.last)
    }
}

@Suite struct EarlyStoppingAndTheBestModel {
    func metrics(loss: Float) -> Metrics { Metrics(count: 1, loss: loss) }

    @Test func patienceCountsEvaluationsWithoutImprovement() {
        var e = EarlyStopping(metric: .validationLoss, patience: 2)
        let improved = [Float(1.0), 0.8, 0.9].enumerated().map { e.record(metrics(loss: $1), epoch: $0) }
        #expect(improved == [true, true, false])
        #expect(!e.shouldStop)
        let last = e.record(metrics(loss: 0.85), epoch: 3)
        #expect(!last && e.shouldStop)
        #expect(e.best == 0.8 && e.bestEpoch == 1)
    }

    @Test func accuracyIsMaximized() {
        var e = EarlyStopping(metric: .validationAccuracy)
        var m = metrics(loss: 1)
        m.accuracy = 0.5
        e.record(m, epoch: 0)
        m.accuracy = 0.7
        let improved = e.record(m, epoch: 1)
        #expect(improved)
        #expect(e.best == 0.7)
    }

    @Test func theOverfittingWatchSpeaksOnceAndNamesThePillars() {
        var w = OverfittingWatch(window: 2)
        let warnings = [(Float(1.0), Float(1.0)), (0.8, 1.1), (0.6, 1.2), (0.5, 1.3)].enumerated().map {
            w.record(trainLoss: $1.0, validationLoss: $1.1, epoch: $0)
        }
        #expect(warnings[0] == nil && warnings[1] == nil && warnings[3] == nil)
        #expect(warnings[2]?.contains("pillar 2") == true && warnings[2]?.contains("pillar 1") == true)
    }

    @Test func trainingStopsEarlyAndKeepsTheBestWeights() throws {
        // Random labels: validation loss cannot keep improving.
        var data = Dataset.blobs(count: 300, features: 4, classes: 3, seed: 1)
        var rng = RandomGenerator(seed: 5)
        data.targets = Tensor((0..<300).map { _ in Float(rng.next() % 3) })
        let split = try data.split(testFraction: 0.2, validationFraction: 0.2, seed: 0)
        let t = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [64], outputs: 3),
                                        loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2))
        var o = FitOptions(epochs: 200, batchSize: 16)
        o.validation = split.validation
        o.earlyStopping = EarlyStopping(metric: .validationLoss, patience: 3)
        o.keepBest = true
        let result = try t.fit(split.train, o)
        #expect(result.earlyStopped && result.epochs < 200)
        let best = try #require(result.best)
        #expect(result.epochs == best.epoch + 1 + 3)
        let bestLoss = try Evaluator.evaluate(try #require(t.bestModel()), on: split.validation!, loss: CrossEntropyLoss()).loss
        #expect(bestLoss == best.value)
        #expect(try Evaluator.evaluate(t.model, on: split.validation!, loss: CrossEntropyLoss()).loss > best.value)   // the last weights

        // restoreBest: the replicas end with the best weights, every one of them.
        let restoring = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [64], outputs: 3),
                                                loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2))
        o.restoreBest = true
        let restored = try restoring.fit(split.train, o)
        #expect(restored.best?.value == best.value)
        #expect(try Evaluator.evaluate(restoring.model, on: split.validation!, loss: CrossEntropyLoss()).loss == best.value)
        let bestModel = try #require(restoring.bestModel())
        withExtendedLifetime(bestModel) {   // the buffer is the model's: keep it alive while it is read
            #expect(bits(restoring.replicaParameters(1)) == bits(Array(bestModel.store.values.buffer)))
        }
    }

    @Test func restoringTheBestWeightsNeedsThemKept() throws {
        let t = try DataParallelTrainer(workers: 1, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [8], outputs: 3),
                                        loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.1))
        var o = FitOptions(epochs: 1, batchSize: 16)
        o.restoreBest = true
        #expect(throws: ConfigurationError.self) { try t.fit(Dataset.blobs(count: 60, features: 4), o) }
    }
}
