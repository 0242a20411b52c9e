import Foundation
import Lockstep

/// What the run is made of, from the command's flags and files: the data, the loss, the
/// optimizer and its schedule, and the checks on them that come before any file is touched.
extension TrainingSession {
    /// Refuses features that 32-bit arithmetic cannot train on (their squares overflow), naming
    /// the column, instead of a NaN loss some steps later.
    func checkMagnitudes(_ data: Dataset, file: String) throws {
        let columns = data.featureCount
        try data.features.withUnsafeBufferPointer { x in
            if let i = Kernels.firstIndex(beyond: 1e18, in: x) {
                let c = i % columns
                throw DataError(file: file, "column '\(data.featureNames[c])' holds values too large for 32-bit training "
                                + "(\(command.standardize ? "even standardized" : "\(x[i])")); rescale it"
                                + (command.standardize ? "" : " or drop --no-standardize"))
            }
        }
    }

    /// The files the run writes, by flag.
    var outputPaths: [(String, String)] {
        let c = command
        return [("--save", c.save)] + [("--metrics", c.metrics), ("--plot", c.plot)].compactMap { flag, path in path.map { (flag, $0) } }
    }

    /// Refuses outputs that cannot be written (a missing directory, a directory, a block device)
    /// before anything runs; `TrainCommand.validate` refused outputs that are inputs.
    func checkOutputs() throws {
        for (_, path) in outputPaths { _ = try OutputTarget(path) }
    }

    func loadData() throws -> LoadedData {
        let c = command
        if c.data.hasPrefix("builtin:") {
            let name = String(c.data.dropFirst(8))
            guard let d = Dataset.builtin(name) else {
                throw DataError(file: c.data, "no built-in data set '\(name)'; there are \(Dataset.builtinNames.joined(separator: ", "))")
            }
            if let target = c.target, target != d.targetName {
                throw DataError(file: c.data, "no column named '\(target)'; the target is '\(d.targetName)'")
            }
            return LoadedData(dataset: d, name: c.data, hash: PendingHash(value: DataFingerprint(of: d).digest),
                              legacyHash: PendingHash(later: { Dataset.builtin(name).map { DataFingerprint(of: $0, hash: .sha256).digest } ?? "" }), taskReason: "built-in \(d.task.rawValue) set")
        }
        let stamp = FileStamp(path: c.data)
        let d = try Dataset.read(at: c.data, target: c.target, task: c.task)
        let (file, suffix) = (c.data, "target=\(d.targetName) task=\(d.task.rawValue)")
        let hash = PendingHash(file: file, suffix: suffix, stamp: stamp)
        let legacyHash = PendingHash(later: {
            var hash = try Dataset.fileHash(at: file, unchangedSince: stamp, using: SHA256.self)
            hash.update(suffix)
            return hash.hexDigest()
        })
        let reason: String
        if c.task != nil {
            reason = "--task"
        } else if d.task == .classification && d.classLabels.contains(where: { Float($0) == nil }) {
            reason = "inferred: a text target with \(d.classLabels.count) classes"
        } else if d.task == .classification {
            reason = "inferred: an integer target with \(d.classLabels.count) distinct values"
        } else {
            reason = "inferred: a numeric target that is not an integer with at most 20 distinct values"
        }
        return LoadedData(dataset: d, name: PathText.lastComponent(of: c.data), hash: hash, legacyHash: legacyHash, taskReason: reason)
    }

    func chooseLoss(for data: Dataset) throws -> any Loss {
        let spec = command.loss ?? .default(for: data.task)
        try spec.check(task: data.task, targetName: data.targetName)
        return spec.make()
    }

    func optimizerSpec() -> OptimizerSpec {
        let c = command
        switch c.optimizer {
        case .sgd: return .sgd(lr: c.lr ?? 0.01, momentum: c.momentum, weightDecay: c.weightDecay ?? 0)
        case .adam: return .adam(lr: c.lr ?? 1e-3, weightDecay: c.weightDecay ?? 0)
        case .adamw: return .adamW(lr: c.lr ?? 1e-3, weightDecay: c.weightDecay ?? 1e-2)
        }
    }

    func scheduleKind(stepsPerEpoch: Int) -> LRSchedule.Kind {
        let c = command
        switch c.schedule {
        case .constant: return .constant
        case .step: return .step(every: c.stepEvery * stepsPerEpoch, gamma: c.gamma)
        case .cosine: return .cosine(totalSteps: max(c.epochs * stepsPerEpoch - c.warmup, 1), minimum: 0)
        }
    }

    func scheduleSummary() -> String {
        let c = command
        var parts: [String] = []
        switch c.schedule {
        case .constant: break
        case .step: parts.append("×\(c.gamma) every \(c.stepEvery) epochs")
        case .cosine: parts.append("cosine schedule")
        }
        if c.warmup > 0 { parts.append("\(c.warmup) warm-up steps") }
        if let clip = c.clipNorm { parts.append("clip norm \(clip)") }
        return parts.isEmpty ? "" : " · " + parts.joined(separator: " · ")
    }
}
