/// Pillars 5 and 6 during training, on global rank 0 only: at the end of each epoch (and when a
/// run stops) it evaluates rank 0's replica, keeps the history, the early stopping, best-model
/// and overfitting state, decides whether the run goes on, and hands checkpoints to the
/// background writer. It sees no other rank: the optimizer shards of a checkpoint reach it
/// through the communicator's gather.
final class Coordinator: @unchecked Sendable {
    let options: FitOptions
    let configuration: TrainingConfiguration
    let dataFingerprint: DataFingerprint
    let workerCount: Int
    let stepsPerEpoch: Int
    let loss: any Loss
    let writer: CheckpointWriter?
    let onEvent: @Sendable (TrainingEvent) -> Void
    let started = monotonicNanoseconds()

    var history: [EpochReport] = []
    var epochsCompleted = 0
    var earlyStopping: EarlyStopping
    var overfitting: OverfittingWatch
    var bestParameters: [Float]?
    /// The best model's buffers (running statistics), beside `bestParameters`.
    var bestBuffers: [Float]?
    var earlyStopped = false
    var stopped = false
    var steps: Int
    /// Training rows (the last batch of an epoch may be smaller than the others).
    let rowsPerEpoch: Int
    /// Where the next checkpoint resumes: (epoch, step in epoch, loss sum so far).
    private var checkpointPosition: (epoch: Int, stepInEpoch: Int, lossSum: Double)?

    init(options: FitOptions, configuration: TrainingConfiguration, dataFingerprint: DataFingerprint, workerCount: Int,
         stepsPerEpoch: Int, rowsPerEpoch: Int, loss: any Loss, startStep: Int, onEvent: @escaping @Sendable (TrainingEvent) -> Void) throws {
        self.options = options
        self.configuration = configuration
        self.dataFingerprint = dataFingerprint
        self.workerCount = workerCount
        self.stepsPerEpoch = stepsPerEpoch
        self.rowsPerEpoch = rowsPerEpoch
        self.loss = loss
        self.onEvent = onEvent
        steps = startStep
        writer = try options.checkpoints.map { try CheckpointWriter(policy: $0) }
        earlyStopping = options.earlyStopping
        overfitting = OverfittingWatch(window: options.overfittingWindow)
        if let resume = options.resume {
            history = resume.state.history
            epochsCompleted = resume.state.epochsCompleted
            earlyStopping = resume.state.earlyStopping
            earlyStopping.patience = options.earlyStopping.patience
            overfitting = resume.state.overfitting
            bestParameters = resume.bestParameters
            bestBuffers = resume.bestBuffers
        }
    }

    /// Rows the epoch's steps `steps` train on: full batches, and a smaller last one unless it is dropped.
    private func rowsTaken(steps: Range<Int>) -> Int {
        let b = options.batchSize
        let epochRows = options.dropLast ? stepsPerEpoch * b : rowsPerEpoch
        return min(steps.upperBound * b, epochRows) - min(steps.lowerBound * b, epochRows)
    }

    /// On a process without rank 0: rank 0's decision at the end of `epoch`, as every rank
    /// learned it, in place of the evaluation this process does not make.
    func follow(epoch: Int, completed: Bool, control: RunControl) {
        if completed { epochsCompleted = epoch + 1 }
        stopped = control == .stopRequested
        earlyStopped = control == .earlyStopped
    }

    /// A step has ended (every rank holds its new parameters).
    func stepEnded(epoch: Int, step: Int, loss: Float?) {
        steps = step
        if let loss { onEvent(.stepLoss(step: step, loss: loss)) }
        onEvent(.stepEnded(epoch: epoch, step: step, stepsPerEpoch: stepsPerEpoch))
    }

    /// The end of an epoch, or of a run stopped inside one: `stepsDone` of the epoch's steps were
    /// taken; `lossSum` is their summed batch losses; `model` is rank 0's replica. Returns what
    /// the run does next, and whether every rank should now contribute to a checkpoint
    /// (`writeCheckpoint`). `stepsTimed` of those steps ran in `epochSeconds` (fewer than
    /// `stepsDone` in an epoch that a resume continued).
    func endOfEpoch(_ epoch: Int, stepsDone: Int, stepsTimed: Int, lossSum: Double, epochSeconds: Double,
                    control: RunControl, model: Sequential) throws -> (control: RunControl, checkpoint: Bool) {
        // Checkpoints are written in the background: one that failed stops the run here, not
        // after every remaining epoch has trained with nothing to resume from.
        if let writer, let failure = writer.failed {
            throw TrainingError.checkpointFailed(step: steps, reason: "\(failure)", lastCheckpoint: writer.lastWritten)
        }
        let completed = stepsDone == stepsPerEpoch
        let userStopped = control == .stopRequested
        if completed {
            let evaluate = (epoch + 1) % max(options.evaluateEveryEpochs, 1) == 0 || epoch + 1 == options.epochs
            let scaling = options.targetScaling
            let validation = evaluate ? try options.validation.map { try Evaluator.evaluate(model, on: $0, loss: loss, targetScaling: scaling) } : nil
            let test = evaluate ? try options.test.map { try Evaluator.evaluate(model, on: $0, loss: loss, targetScaling: scaling) } : nil
            let trainLoss = Float(lossSum / Double(stepsPerEpoch))
            let rows = Double(rowsTaken(steps: (stepsDone - stepsTimed)..<stepsDone))
            let report = EpochReport(epoch: epoch, step: steps, trainLoss: trainLoss, validation: validation, test: test,
                                     samplesPerSecond: rows / max(epochSeconds, 1e-9),
                                     elapsedSeconds: Double(monotonicNanoseconds() - started) * 1e-9)
            history.append(report)
            epochsCompleted = epoch + 1
            if let validation {
                if earlyStopping.record(validation, epoch: epoch), options.keepBest {
                    bestParameters = Array(model.store.values.buffer)
                    bestBuffers = Array(model.bufferValues.buffer)
                }
                earlyStopped = earlyStopping.shouldStop
                if let warning = overfitting.record(trainLoss: trainLoss, validationLoss: validation.loss, epoch: epoch) {
                    onEvent(.warning(warning))
                }
            }
            onEvent(.epochEnded(report))
        }
        stopped = userStopped
        let finishing = userStopped || earlyStopped || epoch + 1 == options.epochs
        checkpointPosition = nil
        if let writer, finishing || (completed && (epoch + 1) % writer.everyEpochs == 0) {
            checkpointPosition = completed ? (epoch + 1, 0, 0.0) : (epoch, stepsDone, lossSum)
        }
        let next: RunControl = userStopped ? .stopRequested : earlyStopped ? .earlyStopped : .running
        return (next, checkpointPosition != nil)
    }

    /// Hands the checkpoint that `endOfEpoch` asked for to the background writer: `model` is rank
    /// 0's replica, `optimizer` the whole optimizer state gathered from every rank.
    func writeCheckpoint(model: Sequential, optimizer: OptimizerState) {
        guard let writer, let position = checkpointPosition else { return }
        writer.submit(snapshot(position, model: model, optimizer: optimizer)) { [onEvent] path in onEvent(.checkpointSaved(path: path)) }
    }

    /// The checkpoint at this point.
    private func snapshot(_ position: (epoch: Int, stepInEpoch: Int, lossSum: Double), model: Sequential,
                          optimizer: OptimizerState) -> Checkpoint {
        let state = Checkpoint.State(
            configuration: configuration, data: dataFingerprint, workers: workerCount, epoch: position.epoch,
            stepInEpoch: position.stepInEpoch, step: steps, epochLossSum: position.lossSum, optimizerStepCount: optimizer.stepCount,
            learningRate: optimizer.learningRate, earlyStopping: earlyStopping, overfitting: overfitting,
            history: Array(history.suffix(Checkpoint.historyLimit)),
            epochsCompleted: epochsCompleted)
        return Checkpoint(state: state, parameters: Array(model.store.values.buffer), bestParameters: bestParameters,
                          optimizerBuffers: optimizer.buffers, buffers: Array(model.bufferValues.buffer), bestBuffers: bestBuffers)
    }
}
