import Foundation

/// Where a fit starts, agreed by every process of a job: rank 0 alone reads files (the checkpoint
/// to resume), so the others learn the starting point — and check that they train the same run
/// on the same data — through the communicator.
extension DataParallelTrainer {
    /// Where a fit starts when it resumes.
    struct StartPoint {
        var epoch: Int
        var stepInEpoch: Int
        var lossSum: Double
        var step: Int
        /// Workers of the run that wrote the checkpoint.
        var workers: Int
    }

    /// The resume point of `checkpoint` (rank 0's; the other processes pass nil and receive it),
    /// or nil for a fresh start. Over processes, every process's run — its configuration and its
    /// data's fingerprint — must equal rank 0's: one that differs throws on every process,
    /// naming the process and its host, instead of training apart.
    func agreeOnStart(_ checkpoint: Checkpoint?, configuration: TrainingConfiguration,
                      data: DataFingerprint, options: FitOptions) throws -> StartPoint? {
        let mine = checkpoint.map {
            StartPoint(epoch: $0.state.epoch, stepInEpoch: $0.state.stepInEpoch, lossSum: $0.state.epochLossSum, step: $0.state.step,
                       workers: $0.state.workers)
        }
        guard let processes, processes.processCount > 1 else { return mine }
        // Besides the arithmetic's settings, what decides how many collectives a fit calls.
        let digest = Self.digest(configuration, data, "epochs \(options.epochs) step losses \(options.stepLosses)")
        let agreed = AgreedStart()
        let first = localWorkers.lowerBound, me = processes.process, count = processes.processCount
        try launcher.run { rank, communicator in
            var words = [0.0, 0, 0, 0, 0, 0, Double(digest >> 32), Double(digest & 0xFFFF_FFFF)]
            if let mine {
                words[0...5] = [1, Double(mine.epoch), Double(mine.stepInEpoch), mine.lossSum, Double(mine.step), Double(mine.workers)]
            }
            try communicator.broadcast(&words, root: 0)
            let differs = UInt64(words[6]) << 32 | UInt64(words[7]) != digest
            var votes = [Double](repeating: 0, count: count)
            if rank == first && differs { votes[me] = 1 }
            try communicator.allReduce(&votes)
            if rank == first { agreed.words = words; agreed.differing = votes.indices.filter { votes[$0] != 0 } }
        }
        if let other = agreed.differing.first {
            throw ConfigurationError(other == me
                ? "\(processes.processDescription) trains another run than process 0: its data (\(data.description), "
                    + "\(data.summary)) or its settings (\(options.epochs) epochs, batch \(options.batchSize), seed \(options.seed), …) "
                    + "differ; start every process with the same command on the same data"
                : "\(describe(process: other)) trains another run than process 0 (other data, or other settings); start every process "
                    + "with the same command on the same data")
        }
        let w = agreed.words
        return w[0] == 0 ? nil : StartPoint(epoch: Int(w[1]), stepInEpoch: Int(w[2]), lossSum: w[3], step: Int(w[4]), workers: Int(w[5]))
    }

    /// "process 1 on node7", when the launcher knows the host.
    func describe(process: Int) -> String {
        let hosts = (launcher as? ThreadLauncher)?.hosts ?? []
        return "process \(process)" + (hosts.indices.contains(process) ? " on \(hosts[process])" : "")
    }

    /// FNV-1a over the run's configuration (as sorted JSON), the data's fingerprint and `more`.
    private static func digest(_ configuration: TrainingConfiguration, _ data: DataFingerprint, _ more: String) -> UInt64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let bytes = ((try? encoder.encode(configuration)) ?? Data()) + Data((data.digest + "\u{1f}" + data.description + "\u{1f}" + more).utf8)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

private final class AgreedStart: @unchecked Sendable {
    var words: [Double] = []
    var differing: [Int] = []
}
