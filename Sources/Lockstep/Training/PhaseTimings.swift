/// Where the workers' time goes, summed over profiled steps (worker 0's view; `fit` with
/// `profile: true` fills it). Profiling adds a barrier before the reduce-scatter, so that waiting
/// for the slowest worker is told apart from the collective itself.
/// Without gradient clipping the optimizer step runs inside the reduce-scatter (it consumes the
/// sums block by block), and its time counts there.
public struct PhaseTimings: Sendable, Equatable, Codable {
    /// Gathering the shard, forward, loss, zeroing gradients, backward.
    public var computeSeconds: Double = 0
    /// Waiting at the reduce-scatter for the slowest worker to finish its backward.
    public var waitSeconds: Double = 0
    /// Summing gradients across workers, each receiving its slice's sums (and, without
    /// clipping, the optimizer step on it).
    public var reduceScatterSeconds: Double = 0
    /// Clipping and the optimizer step on this worker's slice, when they run apart.
    public var optimizerSeconds: Double = 0
    /// Copying every worker's updated slice to the other replicas.
    public var allGatherSeconds: Double = 0
    /// Steps profiled.
    public var steps = 0

    /// No time in any phase yet.
    public init() {}

    /// The sum of all phases, in seconds.
    public var totalSeconds: Double { computeSeconds + waitSeconds + reduceScatterSeconds + optimizerSeconds + allGatherSeconds }
    /// All-reduce (reduce-scatter + all-gather) plus optimizer step, as a fraction of step time
    /// (waiting for stragglers excluded).
    public var communicationAndOptimizerFraction: Double {
        totalSeconds > 0 ? (reduceScatterSeconds + optimizerSeconds + allGatherSeconds) / totalSeconds : 0
    }
}
