/// What a run does after a step, as rank 0 decides it. Every rank learns the decision through
/// its communicator — it rides on the step's all-gather, and an epoch's end broadcasts it — so
/// the ranks leave the loop together whether they are threads or processes. A failure is not a
/// state: the failing rank aborts the communicator, and every rank's collective throws.
enum RunControl: Int, Sendable {
    /// Keep training.
    case running = 0
    /// `stop()` was called (Ctrl-C, a cancelled task) before this step's all-gather: the run
    /// ends with this step, checkpoints and returns.
    case stopRequested = 1
    /// Early stopping ended the run at an evaluation.
    case earlyStopped = 2
}

/// What one step gives back to the training loop.
struct StepOutcome {
    /// This worker's share of the batch loss (its rows' losses ÷ the global batch rows).
    var loss: Float
    /// Rank 0's decision for every rank.
    var control: RunControl
}
