import ArgumentParser
import Foundation
import Lockstep

/// What `lockstep train` does, stage by stage: the six pillars with their lines on screen.
struct TrainingSession {
    let command: TrainCommand
    let console: Console

    init(_ command: TrainCommand) {
        self.command = command
        console = Console(quiet: command.quiet)
    }

    /// The data as read, with what identifies it.
    struct LoadedData {
        var dataset: Dataset
        var name: String
        var sha256: String
        var taskReason: String
    }

    func run() throws {
        BLAS.useOneThreadPerCall()
        let c = command

        // Everything that can refuse the run is checked before any file is created, changed or removed.
        let interrupts = Interrupts()
        let loaded = try loadData()
        var data = loaded.dataset
        let loss = try chooseLoss(for: data)
        try checkOutputs()
        try c.keepBest.map { try $0.check(task: data.task) }

        // 1. Data: read, split, standardize features (and regression targets) with the training split's statistics.
        let split = try data.split(testFraction: c.testFraction, validationFraction: c.valFraction, seed: c.seed)
        guard split.train.count >= c.workerCount else {
            throw ConfigurationError("the training split has \(split.train.count) rows, fewer than --workers \(c.workerCount): every worker needs a row")
        }
        let scaler = c.standardize ? Standardizer(fitting: split.train.features) : nil
        let targetScaler = c.standardize && data.task == .regression ? Standardizer(fitting: split.train.targets) : nil
        func prepared(_ d: Dataset) -> Dataset {
            let x = scaler.map { $0.transform(d) } ?? d
            return targetScaler.map { $0.transformTargets(x) } ?? x
        }
        let (train, validation, test) = (prepared(split.train), split.validation.map(prepared), prepared(split.test))
        try checkMagnitudes(train, file: loaded.name)
        var parts = ["train \(train.count)"]
        if let validation { parts.append("validation \(validation.count)") }
        parts.append("test \(test.count)")
        let standardized = targetScaler != nil ? ", features and target standardized" : (scaler != nil ? ", standardized" : "")
        console.stage(1, "Data", "\(loaded.name): \(data.count) rows × \(data.featureCount) feature\(data.featureCount == 1 ? "" : "s") → \(parts.joined(separator: " / ")) (seed \(c.seed))"
                      + standardized)
        console.detail("task: \(data.task.rawValue) (\(loaded.taskReason))")
        data = train
        let batchSize = min(c.batchSize, train.count)
        if batchSize < c.batchSize {
            console.detail("note: --batch-size \(c.batchSize) is more than the \(train.count) training rows; each batch is the whole split")
        }
        let steps = (train.count + batchSize - 1) / batchSize

        // 2. Model.
        let choice = c.model ?? (c.data == "builtin:linear" ? ModelChoice(argument: "linear")! : ModelChoice(argument: "mlp:64")!)
        let outputs = loss.isBinary ? 1 : data.outputCount
        let spec = ModelSpec.mlp(inputs: data.featureCount, hidden: choice.hidden, outputs: outputs,
                                 activation: choice.activation, dropout: c.dropout)
        let parameterCount = try spec.checkedParameterCount(replicas: c.workerCount)
        console.stage(2, "Model", "\(spec.summary) · \(parameterCount) parameters")

        // 3. Loss and optimizer.
        let optimizer = optimizerSpec()
        console.stage(3, "Objective", "\(loss.name) · \(optimizer.summary)" + scheduleSummary())

        // 4. Training on the workers.
        // Fewer workers than CPUs: take the least busy ones, so that two runs side by side do not
        // pin onto the same CPUs.
        let machine = Topology.current()
        let topology = c.workerCount < machine.cpuCount ? machine.orderedByLoad() : machine
        let trainer = try DataParallelTrainer(
            workers: c.workerCount, placement: c.placement, topology: topology, model: spec, seed: c.seed, loss: loss,
            optimizer: optimizer, schedule: scheduleKind(stepsPerEpoch: steps), warmupSteps: c.warmup, clipNorm: c.clipNorm)
        var options = FitOptions(epochs: c.epochs, batchSize: batchSize, seed: c.seed)
        options.validation = validation
        options.test = test
        options.targetScaling = targetScaler
        options.keepBest = c.keepBest != nil
        options.earlyStopping = EarlyStopping(metric: c.keepBest ?? .validationLoss, patience: c.patience)
        options.dataFingerprint = DataFingerprint(
            sha256: loaded.sha256,
            description: "\(loaded.name) · target \(data.targetName) · test \(c.testFraction) · validation \(c.valFraction) · split seed \(c.seed)"
                + (c.standardize ? " · standardized" : ""))
        let resume = try c.resume ? ResumePoint.newest(in: c.checkpointDir) : c.resumeFrom.map { try ResumePoint.named($0) }
        options.resume = resume?.checkpoint
        if let resume {
            try FileIdentity.checkDistinct(inputs: [("the checkpoint", resume.path)], outputs: outputPaths)
        }
        options.checkpoints = CheckpointPolicy(directory: c.checkpointDir, everyEpochs: c.checkpointEvery)
        try trainer.preflight(train, options)

        // Now files: the run's own checkpoint folder (locked), then the metrics file.
        let run = try resume?.runDirectory.map(RunDirectory.open) ?? RunDirectory.create(in: c.checkpointDir)
        var ok = false
        defer { if !ok { run.close(removeIfEmpty: true) } }
        options.checkpoints?.run = run
        let cpus = Topology.ranges(Array(Set(trainer.workerCPUs.compactMap { $0 })).sorted())
        let nodes = Set(trainer.workerCPUs.compactMap { $0 }.map { topology.node(ofCPU: $0) }).count
        let header = "\(c.workerCount) worker\(c.workerCount == 1 ? "" : "s") on \(max(nodes, 1)) NUMA node\(nodes > 1 ? "s" : "")"
            + (cpus.isEmpty ? "" : " (CPUs \(cpus))") + " · \(c.epochs) epochs × \(steps) steps"
        if let resume {
            console.stage(4, "Training", header)
            resume.warnings.forEach { console.detail("warning: " + $0) }
            console.detail("resuming from \(resume.path) (epoch \(resume.checkpoint.state.epoch + 1), step \(resume.checkpoint.state.step))")
        } else {
            console.stage(4, "Training", header)
        }
        let log = try c.metrics.map { try MetricsLog(path: $0, append: resume != nil) }
        if let resume {
            try log?.write(["event": "resumed", "epoch": resume.checkpoint.state.epoch + 1, "step": resume.checkpoint.state.step])
        }
        let progress = ProgressReporter(console: console, epochs: c.epochs, log: log) { trainer.stop() }
        interrupts.onStop { trainer.stop() }
        let result = try trainer.fit(train, options) { progress.handle($0) }
        console.endProgress()
        ok = true
        try progress.checkWrites()
        let history = result.history
        if let plot = c.plot {
            try AtomicFile.write(Data(LossPlot.svg(history: history, task: data.task, title: "\(loaded.name) · \(spec.summary)").utf8), to: plot)
        }
        if result.stopped, let signal = interrupts.received {
            try log?.write(["event": "interrupted", "step": trainer.stepCount])
            console.stage(4, "Training", "interrupted after step \(trainer.stepCount): checkpoint saved to \(result.lastCheckpoint ?? "(none)")")
            console.detail("continue with the same command and --resume")
            try console.checkWrites()
            throw ExitCode(128 + signal)
        }
        if result.earlyStopped, let best = result.best {
            console.detail("stopped early after epoch \(result.epochs): no better \(options.earlyStopping.metric.rawValue) than \(Console.number(best.value)) (epoch \(best.epoch + 1)) for \(c.patience!) evaluations")
        }

        // 5. Evaluation on the unseen test split (in the target's own units).
        let model = (c.keepBest != nil ? trainer.bestModel() : nil) ?? trainer.model
        let metrics = Evaluator.evaluate(model, on: test, loss: loss, targetScaling: targetScaler)
        console.stage(5, "Evaluate", "test " + describe(metrics))
        if c.data == "builtin:linear", choice.hidden.isEmpty {
            let w = model.parameters[0].tensor.item, b = model.parameters[1].tensor.item
            let (mean, std) = (scaler?.mean[0] ?? 0, scaler?.std[0] ?? 1)
            let (yMean, yStd) = (targetScaler?.mean[0] ?? 0, targetScaler?.std[0] ?? 1)
            // In the units of the raw x and y: y = (w·(x − mean)/std + b)·yStd + yMean.
            let weight = w / std * yStd, bias = (b - w * mean / std) * yStd + yMean
            console.detail("learned weight \(Console.number(weight)) (true \(Dataset.linearTruth.weight)) · bias \(Console.number(bias)) (true \(Dataset.linearTruth.bias))")
        }

        // 6. Save a model file that runs anywhere.
        let summary = TrainingSummary(epochs: result.epochs, steps: trainer.stepCount, workers: c.workerCount, batchSize: batchSize,
                                      loss: loss.name, optimizer: optimizer.summary, seed: c.seed,
                                      trainLoss: history.last?.trainLoss, test: metrics,
                                      split: SplitSettings(testFraction: c.testFraction, validationFraction: c.valFraction, seed: c.seed))
        var document = ModelDocument(spec: spec, task: data.task, featureNames: data.featureNames, targetName: data.targetName,
                                     standardization: scaler, classLabels: data.classLabels, summary: summary)
        document.targetStandardization = targetScaler
        try SavedModel(model: model, document: document).save(to: c.save)
        var st = stat()
        var saved = "\(c.save)" + (stat(c.save, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? " (\(Console.size(Int(st.st_size))))" : "")
        if c.keepBest != nil, let best = result.best {
            saved += " · best \(options.earlyStopping.metric.rawValue) \(Console.number(best.value)) at epoch \(best.epoch + 1)"
        }
        console.stage(6, "Save", saved)
        if let last = result.lastCheckpoint { console.detail("checkpoint \(last)") }
        let done: [String: Any] = ["event": "done", "epochs": result.epochs, "step": trainer.stepCount, "model": c.save]
        try log?.write(done.merging(MetricsLog.fields("test", metrics)) { $1 })
        try console.checkWrites()
    }

    /// Refuses features that 32-bit arithmetic cannot train on (their squares overflow), naming
    /// the column, instead of a NaN loss some steps later.
    private func checkMagnitudes(_ data: Dataset, file: String) throws {
        let columns = data.featureCount
        try data.features.withUnsafeBufferPointer { x in
            for i in x.indices where !(abs(x[i]) <= 1e18) {
                let c = i % columns
                throw DataError(file: file, "column '\(data.featureNames[c])' holds values too large for 32-bit training "
                                + "(\(command.standardize ? "even standardized" : "\(x[i])")); rescale it"
                                + (command.standardize ? "" : " or drop --no-standardize"))
            }
        }
    }

    /// The files the run writes, by flag.
    private var outputPaths: [(String, String)] {
        let c = command
        return [("--save", c.save)] + [("--metrics", c.metrics), ("--plot", c.plot)].compactMap { flag, path in path.map { (flag, $0) } }
    }

    /// Refuses outputs that cannot be written (a missing directory, a directory, a block device)
    /// before anything runs; `TrainCommand.validate` refused outputs that are inputs.
    private func checkOutputs() throws {
        for (_, path) in outputPaths { _ = try OutputTarget(path) }
    }

    private func loadData() throws -> LoadedData {
        let c = command
        if c.data.hasPrefix("builtin:") {
            let name = String(c.data.dropFirst(8))
            guard let d = Dataset.builtin(name) else {
                throw DataError(file: c.data, "no built-in data set '\(name)'; there are \(Dataset.builtinNames.joined(separator: ", "))")
            }
            if let target = c.target, target != d.targetName {
                throw DataError(file: c.data, "no column named '\(target)'; the target is '\(d.targetName)'")
            }
            return LoadedData(dataset: d, name: c.data, sha256: DataFingerprint(of: d).sha256,
                              taskReason: "built-in \(d.task.rawValue) set")
        }
        let d = try Dataset.read(at: c.data, target: c.target, task: c.task)
        var hash = SHA256()
        if let bytes = FileManager.default.contents(atPath: c.data) { bytes.withUnsafeBytes { hash.update($0) } }
        hash.update("target=\(d.targetName) task=\(d.task.rawValue)")
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
        return LoadedData(dataset: d, name: (c.data as NSString).lastPathComponent, sha256: hash.hexDigest(), taskReason: reason)
    }

    private func chooseLoss(for data: Dataset) throws -> any Loss {
        let spec = command.loss ?? .default(for: data.task)
        try spec.check(task: data.task, targetName: data.targetName)
        return spec.make()
    }

    private func optimizerSpec() -> OptimizerSpec {
        let c = command
        switch c.optimizer {
        case .sgd: return .sgd(lr: c.lr ?? 0.01, momentum: c.momentum, weightDecay: c.weightDecay ?? 0)
        case .adam: return .adam(lr: c.lr ?? 1e-3, weightDecay: c.weightDecay ?? 0)
        case .adamw: return .adamW(lr: c.lr ?? 1e-3, weightDecay: c.weightDecay ?? 1e-2)
        }
    }

    private func scheduleKind(stepsPerEpoch: Int) -> LRSchedule.Kind {
        let c = command
        switch c.schedule {
        case .constant: return .constant
        case .step: return .step(every: c.stepEvery * stepsPerEpoch, gamma: c.gamma)
        case .cosine: return .cosine(totalSteps: max(c.epochs * stepsPerEpoch - c.warmup, 1), minimum: 0)
        }
    }

    private func scheduleSummary() -> String {
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

/// "accuracy 96.7% · loss 0.091", "R² 0.998 · MAE 0.0081 · RMSE 0.01 · loss 0.0001".
func describe(_ m: Metrics) -> String {
    if let a = m.accuracy { return String(format: "accuracy %.1f%%", Double(a) * 100) + " · loss \(Console.number(m.loss))" }
    var parts: [String] = []
    if let r2 = m.r2 { parts.append("R² \(Console.number(r2))") }
    if let mae = m.mae { parts.append("MAE \(Console.number(mae))") }
    if let rmse = m.rmse { parts.append("RMSE \(Console.number(rmse))") }
    parts.append("loss \(Console.number(m.loss))")
    return parts.joined(separator: " · ")
}
