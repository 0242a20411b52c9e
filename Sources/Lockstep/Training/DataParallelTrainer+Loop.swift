import Synchronization

/// The training loop each worker runs during `fit`: its epochs, its steps, and where it meets
/// the other ranks (the step's collectives, the epoch's sum of losses and rank 0's decision).
extension DataParallelTrainer {
    /// What every worker runs during `fit`. Rank 0 also coordinates (events, evaluation,
    /// checkpoints) and decides whether the run goes on; every rank learns the decision through
    /// its communicator, so all leave the loop at the same step. On the other processes of a job,
    /// their first rank keeps the `follower`'s count of steps and epochs and its outcome.
    func workerLoop(_ worker: Worker, _ train: any DataSource, _ sharder: Sharder, orders: EpochOrder, options: FitOptions,
                    start: (epoch: Int, stepInEpoch: Int, lossSum: Double), coordinator: Coordinator?,
                    follower: Coordinator? = nil) throws {
        let comm = worker.communicator
        // Read once: the trainer's settings do not change during a fit, and reading its
        // properties at every step checked each access at run time.
        let schedule = self.schedule, clipNorm = self.clipNorm, loss = self.loss
        // A full batch's shard, divided out once (its offsets are the same in every full batch).
        let stepsPerEpoch = sharder.stepsPerEpoch, batchSize = sharder.batchSize
        let fullShard = sharder.shard(of: 0..<batchSize, worker: worker.rank)
        var step = stepCount
        var control = RunControl.running
        var epochLoss = [0.0], decision = [0.0, 0.0], stepLoss = [0.0]
        for epoch in start.epoch..<max(options.epochs, start.epoch) {
            let epochStart = monotonicNanoseconds()
            // The sharder's count, read once: a source whose count changed since draws only those rows.
            let order = orders.rows(epoch: epoch)
            let resuming = epoch == start.epoch
            // Only rank 0 carries a resumed epoch's earlier losses, so the sum counts them once.
            var lossSum = resuming && coordinator != nil ? start.lossSum : 0
            var stepsDone = resuming ? start.stepInEpoch : 0
            while stepsDone < stepsPerEpoch && control == .running {
                let batch = sharder.batch(step: stepsDone)
                let shard = batch.count == batchSize ? (fullShard.lowerBound + batch.lowerBound)..<(fullShard.upperBound + batch.lowerBound)
                                                     : sharder.shard(of: batch, worker: worker.rank)
                let outcome: StepOutcome
                do {
                    outcome = try worker.step(train, rows: UnsafeBufferPointer(rebasing: order[shard]), batchRows: batch.count,
                                              rowOffset: shard.lowerBound - batch.lowerBound, step: step, seed: options.seed, loss: loss,
                                              learningRate: schedule.learningRate(atStep: step), clipNorm: clipNorm) {
                        stopRequested.load(ordering: .sequentiallyConsistent) || options.stopToken?.isStopped == true
                            ? .stopRequested : .running
                    }
                } catch let error as WorkerAborted {
                    throw error   // another rank's failure: that rank names it
                } catch let error as TrainingError {
                    throw error
                } catch {
                    // This rank's own step: rank 0's count of steps may lag behind it (a thread runs its ranks in turn).
                    throw TrainingError.workerFailed(worker: worker.rank, step: step + 1, reason: "\(error)")
                }
                control = outcome.control
                lossSum += Double(outcome.loss)
                stepsDone += 1
                step += 1
                if options.stepLosses {
                    stepLoss[0] = Double(outcome.loss)
                    try comm.allReduce(&stepLoss)
                }
                coordinator?.stepEnded(epoch: epoch, step: step, loss: options.stepLosses ? Float(stepLoss[0]) : nil)
                follower?.steps = step
            }
            epochLoss[0] = lossSum
            try comm.allReduce(&epochLoss)
            // Every rank of this process is past its last step: the process's first rank writes the
            // next epoch's order before the decision, which no rank leaves before it has entered.
            if coordinator != nil || follower != nil, epoch + 1 < options.epochs { orders.prepare(epoch: epoch + 1) }
            // Rank 0 evaluates and decides; the broadcast is where the others wait for it.
            if let coordinator {
                let seconds = Double(monotonicNanoseconds() - epochStart) * 1e-9
                let next = try coordinator.endOfEpoch(epoch, stepsDone: stepsDone, stepsTimed: stepsDone - (resuming ? start.stepInEpoch : 0),
                                                  lossSum: epochLoss[0], epochSeconds: seconds, control: control, model: worker.model)
                decision = [Double(next.control.rawValue), next.checkpoint ? 1 : 0]
            }
            try comm.broadcast(&decision, root: 0)
            control = RunControl(rawValue: Int(decision[0])) ?? .stopRequested
            follower?.follow(epoch: epoch, completed: stepsDone == stepsPerEpoch, control: control)
            if decision[1] != 0 {
                let optimizerState = try worker.gatherOptimizerState()
                if let coordinator, let optimizerState { coordinator.writeCheckpoint(model: worker.model, optimizer: optimizerState) }
            }
            if control != .running { break }
        }
    }
}
