import ArgumentParser
import Foundation
import Lockstep

/// What `lockstep train` does, stage by stage: the six pillars with their lines on screen.
///
/// In an MPI job every process runs it on its own copy of the data; only the process of global
/// rank 0 prints, evaluates and touches files.
struct TrainingSession {
    let command: TrainCommand
    let console: Console
    let job: ProcessJob
    /// Workers over every process of the job.
    var workers: Int { command.workerCount * job.count }

    init(_ command: TrainCommand, job: ProcessJob = ProcessJob(transport: nil)) {
        self.command = command
        self.job = job
        console = Console(quiet: command.quiet || !job.isRoot, plain: job.count > 1)
    }

    /// The data as read, with what identifies it.
    struct LoadedData {
        /// The rows as read; nil once `prepare` has split them (the split then holds their memory:
        /// a large data set is split in place, not copied).
        var dataset: Dataset?
        var name: String
        /// The XXH3 of the file and target, still being computed while the data is split.
        var hash: PendingHash
        /// Their SHA-256, as checkpoints written before XXH3 fingerprinted them (a pass over the
        /// file, made once and only to resume such a checkpoint).
        var legacyHash: PendingHash
        var taskReason: String
    }

    /// The data as the run uses it: the splits, standardized with the training split's statistics.
    struct PreparedData {
        var loaded: LoadedData
        var train: Dataset
        var validation: Dataset?
        var test: Dataset
        var scaler: Standardizer?
        var targetScaler: Standardizer?
        var batchSize: Int
        var stepsPerEpoch: Int
    }

    func run() throws {
        BLAS.useOneThreadPerCall()
        // Everything that can refuse the run is checked before any file is created, changed or removed.
        let interrupts = Interrupts()
        var loaded = try loadData()
        // The hash's thread must not outlive the run: a process that exits while it reads ends in SIGSEGV.
        defer { _ = try? loaded.hash.value() }
        let loss = try chooseLoss(for: loaded.dataset!)
        if job.isRoot { try checkOutputs() }
        try command.keepBest.map { try $0.check(task: loaded.dataset!.task) }
        let data = try prepare(&loaded)                                            // 1
        let (spec, choice) = try model(for: data, loss: loss)                     // 2
        let optimizer = optimizerSpec()                                           // 3
        console.stage(3, "Objective", "\(loss.name) · \(optimizer.summary)" + scheduleSummary())
        let (trainer, topology) = try makeTrainer(spec, data, loss: loss, optimizer: optimizer)
        var (options, resume) = try fitOptions(data)
        try trainer.preflight(data.train, options)
        let (result, log) = try train(trainer, data, &options, resume: resume, topology: topology, interrupts: interrupts,
                                      plotTitle: "\(loaded.name) · \(spec.summary)")    // 4
        guard job.isRoot else { return }   // rank 0 evaluates and writes
        let (model, metrics) = try evaluate(trainer, data, loss: loss, choice: choice)  // 5
        try save(model, spec: spec, data: data, metrics: metrics, result: result, trainer: trainer,
                 loss: loss, optimizer: optimizer, metric: options.earlyStopping.metric, log: log)  // 6
    }

    /// Stage 1: split, standardize, and say what the data is.
    private func prepare(_ loaded: inout LoadedData) throws -> PreparedData {
        let c = command, data = loaded.dataset.take()!
        let (task, rows, featureCount) = (data.task, data.count, data.featureCount)
        var split = try (consume data).split(testFraction: c.testFraction, validationFraction: c.valFraction, seed: c.seed)
        guard split.train.count >= workers else {
            throw ConfigurationError("the training split has \(split.train.count) rows, fewer than the \(workers) workers: every worker needs a row")
        }
        guard c.batchSize >= workers else {
            throw ConfigurationError("--batch-size \(c.batchSize) is smaller than the job's \(workers) workers (\(job.count) processes × --workers "
                                     + "\(c.workerCount)): every worker needs at least one row of each batch")
        }
        let scaler = c.standardize ? Standardizer(fitting: split.train.features) : nil
        let targetScaler = c.standardize && task == .regression ? Standardizer(fitting: split.train.targets) : nil
        // In place: each split holds its own rows, so standardizing copies nothing.
        func prepare(_ d: inout Dataset) {
            scaler?.standardize(&d)
            targetScaler?.standardize(&d, targets: true)
        }
        prepare(&split.train)
        prepare(&split.test)
        if split.validation != nil { prepare(&split.validation!) }
        let (train, validation, test) = (split.train, split.validation, split.test)
        try checkMagnitudes(train, file: loaded.name)
        var parts = ["train \(train.count)"]
        if let validation { parts.append("validation \(validation.count)") }
        parts.append("test \(test.count)")
        let standardized = targetScaler != nil ? ", features and target standardized" : (scaler != nil ? ", standardized" : "")
        console.stage(1, "Data", "\(loaded.name): \(rows) rows × \(featureCount) feature\(featureCount == 1 ? "" : "s") → \(parts.joined(separator: " / ")) (seed \(c.seed))"
                      + standardized)
        console.detail("task: \(task.rawValue) (\(loaded.taskReason))")
        let batchSize = min(c.batchSize, train.count)
        if batchSize < c.batchSize {
            console.detail("note: --batch-size \(c.batchSize) is more than the \(train.count) training rows; each batch is the whole split")
        }
        return PreparedData(loaded: loaded, train: train, validation: validation, test: test, scaler: scaler, targetScaler: targetScaler,
                            batchSize: batchSize, stepsPerEpoch: (train.count + batchSize - 1) / batchSize)
    }

    /// Stage 2: the architecture, its size checked against the machine's memory.
    private func model(for data: PreparedData, loss: any Loss) throws -> (ModelSpec, ModelChoice) {
        let c = command
        let choice = c.model ?? (c.data == "builtin:linear" ? ModelChoice(argument: "linear")! : ModelChoice(argument: "mlp:64")!)
        let outputs = loss.isBinary ? 1 : data.train.outputCount
        let spec: ModelSpec
        if let file = choice.file {
            if c.dropout != 0 { throw ConfigurationError("--dropout adds dropout to mlp models; put dropout layers in \(file) instead") }
            spec = try ModelSpec.read(at: file)
        } else {
            spec = ModelSpec.mlp(inputs: data.train.featureCount, hidden: choice.hidden, outputs: outputs,
                                 activation: choice.activation, dropout: c.dropout)
        }
        if c.standardize, case .embedding? = spec.layers.first {
            throw ConfigurationError("\(choice.file ?? "the model") begins with an embedding, which takes ids: add --no-standardize "
                                     + "(standardized ids are not whole numbers)")
        }
        let parameterCount = try spec.checkedParameterCount(replicas: c.workerCount)
        // The model file must describe a model that gives what the data asks: refused here, not
        // after training, when a file that nothing reads would be written.
        guard let given = spec.outputFeatures, given == outputs else {
            let what = data.train.task == .classification && !loss.isBinary ? "\(outputs) classes" : "\(outputs) output\(outputs == 1 ? "" : "s")"
            throw ConfigurationError("\(choice.file ?? "the model") gives "
                                     + (spec.outputFeatures.map { "\($0) outputs" } ?? "samples of \((try? spec.sampleShapes().last) ?? nil ?? [])")
                                     + ", the data needs \(what): end the model with a layer of \(outputs) output\(outputs == 1 ? "" : "s") (a linear layer)")
        }
        try spec.checkMemory(batchRows: data.batchSize, replicas: c.workerCount)
        console.stage(2, "Model", "\(spec.summary) · \(parameterCount) parameters")
        return (spec, choice)
    }

    /// The workers, on the least busy CPUs when there are fewer workers than CPUs (so that two
    /// runs side by side do not pin onto the same ones).
    private func makeTrainer(_ spec: ModelSpec, _ data: PreparedData, loss: any Loss,
                             optimizer: OptimizerSpec) throws -> (DataParallelTrainer, Topology) {
        let c = command
        let machine = job.localShare(of: Topology.current()) ?? Topology.current()
        let topology = c.workerCount < machine.cpuCount ? machine.orderedByLoad() : machine
        let trainer = try DataParallelTrainer(
            workers: c.workerCount, placement: c.placement, topology: topology, model: spec, seed: c.seed, loss: loss,
            optimizer: optimizer, schedule: scheduleKind(stepsPerEpoch: data.stepsPerEpoch), warmupSteps: c.warmup, clipNorm: c.clipNorm,
            processes: job.transport)
        return (trainer, topology)
    }

    /// What `fit` is told: the splits, early stopping, checkpoints, and the run to resume.
    private func fitOptions(_ data: PreparedData) throws -> (FitOptions, ResumePoint?) {
        let c = command
        var options = FitOptions(epochs: c.epochs, batchSize: data.batchSize, seed: c.seed)
        options.dropLast = c.dropLast
        options.validation = data.validation
        options.test = data.test
        options.targetScaling = data.targetScaler
        options.keepBest = c.keepBest != nil
        options.earlyStopping = EarlyStopping(metric: c.keepBest ?? .validationLoss, patience: c.patience)
        let description = "\(data.loaded.name) · target \(data.train.targetName) · test \(c.testFraction) · validation \(c.valFraction) · split seed \(c.seed)"
            + (c.standardize ? " · standardized" : "")
        options.dataFingerprint = DataFingerprint(digest: try data.loaded.hash.value(), description: description)
        let legacyHash = data.loaded.legacyHash
        options.legacyDataFingerprint = { DataFingerprint(hash: .sha256, digest: try legacyHash.value(), description: description) }
        // The other processes of an MPI job read no checkpoint and write none: rank 0 hands them its state.
        guard job.isRoot else { return (options, nil) }
        let resume = try c.resume ? ResumePoint.newest(in: c.checkpointDir) : c.resumeFrom.map { try ResumePoint.named($0) }
        options.resume = resume?.checkpoint
        if let resume {
            try resume.runDirectory.map(RunDirectory.checkFree)
            try FileIdentity.checkDistinct(inputs: [("the checkpoint", resume.path)], outputs: outputPaths)
        }
        options.checkpoints = CheckpointPolicy(directory: c.checkpointDir, everyEpochs: c.checkpointEvery)
        return (options, resume)
    }

    /// Stage 4: the first files (the run's own checkpoint folder, locked, then the metrics file),
    /// then training, with progress and Ctrl-C. Throws `ExitCode(128 + signal)` when interrupted.
    private func train(_ trainer: DataParallelTrainer, _ data: PreparedData, _ options: inout FitOptions, resume: ResumePoint?,
                       topology: Topology, interrupts: Interrupts, plotTitle: String) throws -> (FitResult, MetricsLog?) {
        let c = command
        interrupts.writingStarts()   // the first file of the run comes next
        let run = job.isRoot ? try resume?.runDirectory.map(RunDirectory.open) ?? RunDirectory.create(in: c.checkpointDir) : nil
        var ok = false
        defer { if !ok { run?.close(removeIfEmpty: true) } }
        options.checkpoints?.run = run
        let cpus = Topology.ranges(Array(Set(trainer.workerCPUs.compactMap { $0 })).sorted())
        let nodes = Set(trainer.workerCPUs.compactMap { $0 }.map { topology.node(ofCPU: $0) }).count
        let threads = trainer.threadCount < c.workerCount ? " in \(trainer.threadCount) thread\(trainer.threadCount == 1 ? "" : "s")" : ""
        let header = "\(c.workerCount) worker\(c.workerCount == 1 ? "" : "s")\(threads) on \(max(nodes, 1)) NUMA node\(nodes > 1 ? "s" : "")"
            + (cpus.isEmpty ? "" : " (CPUs \(cpus))") + (job.count > 1 ? " × \(job.count) processes (MPI) = \(workers) workers" : "")
            + " · \(c.epochs) epochs × \(data.stepsPerEpoch) steps"
        console.stage(4, "Training", header)
        if let resume {
            resume.warnings.forEach { console.detail("warning: " + $0) }
            console.detail("resuming from \(resume.path) (epoch \(resume.checkpoint.state.epoch + 1), step \(resume.checkpoint.state.step))")
        }
        let log = job.isRoot ? try c.metrics.map { try MetricsLog(path: $0, append: resume != nil) } : nil
        if let resume {
            try log?.write(["event": "resumed", "epoch": resume.checkpoint.state.epoch + 1, "step": resume.checkpoint.state.step])
        }
        let progress = ProgressReporter(console: console, epochs: c.epochs, log: log) { trainer.stop() }   // during the fit
        let stop = StopToken()
        options.stopToken = stop
        interrupts.onStop { stop.stop() }
        let result: FitResult
        do {
            result = try trainer.fit(data.train, options) { progress.handle($0) }
        } catch {
            // A progress write that failed stopped the run: that failure came first, and what the
            // stop then met (the final checkpoint on the same full disk) would hide it.
            try progress.checkWrites()
            throw error
        }
        console.endProgress()
        ok = true
        try progress.checkWrites()
        if let plot = c.plot, job.isRoot {
            try AtomicFile.write(Data(LossPlot.svg(history: result.history, task: data.train.task, title: plotTitle).utf8), to: plot)
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
        return (result, log)
    }

    /// Stage 5: the model (the best one with --keep-best) on the unseen test split, in the
    /// target's own units; for the built-in line, the learned weight and bias in the raw units.
    private func evaluate(_ trainer: DataParallelTrainer, _ data: PreparedData, loss: any Loss,
                          choice: ModelChoice) throws -> (Sequential, Metrics) {
        let c = command
        let model = (c.keepBest != nil ? trainer.bestModel() : nil) ?? trainer.model
        let metrics = try Evaluator.evaluate(model, on: data.test, loss: loss, targetScaling: data.targetScaler)
        console.stage(5, "Evaluate", "test " + describe(metrics))
        if c.data == "builtin:linear", choice.hidden.isEmpty, choice.file == nil {
            let w = model.parameters[0].tensor.item, b = model.parameters[1].tensor.item
            let (mean, std) = (data.scaler?.mean[0] ?? 0, data.scaler?.std[0] ?? 1)
            let (yMean, yStd) = (data.targetScaler?.mean[0] ?? 0, data.targetScaler?.std[0] ?? 1)
            // In the units of the raw x and y: y = (w·(x − mean)/std + b)·yStd + yMean.
            let weight = w / std * yStd, bias = (b - w * mean / std) * yStd + yMean
            console.detail("learned weight \(Console.number(weight)) (true \(Dataset.linearTruth.weight)) · bias \(Console.number(bias)) (true \(Dataset.linearTruth.bias))")
        }
        return (model, metrics)
    }

    /// Stage 6: a model file that runs anywhere, and the run's last metrics line.
    private func save(_ model: Sequential, spec: ModelSpec, data: PreparedData, metrics: Metrics, result: FitResult,
                      trainer: DataParallelTrainer, loss: any Loss, optimizer: OptimizerSpec, metric: MonitoredMetric,
                      log: MetricsLog?) throws {
        let c = command, train = data.train
        let summary = TrainingSummary(epochs: result.epochs, steps: trainer.stepCount, workers: workers, batchSize: data.batchSize,
                                      loss: loss.name, optimizer: optimizer.summary, seed: c.seed,
                                      trainLoss: result.history.last?.trainLoss, test: metrics,
                                      split: SplitSettings(testFraction: c.testFraction, validationFraction: c.valFraction, seed: c.seed))
        var document = ModelDocument(spec: spec, task: train.task, featureNames: train.featureNames, targetName: train.targetName,
                                     standardization: data.scaler, classLabels: train.classLabels, summary: summary)
        document.targetStandardization = data.targetScaler
        try SavedModel(model: model, document: document).save(to: c.save)
        var st = stat()
        var saved = "\(c.save)" + (stat(c.save, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? " (\(Console.size(Int(st.st_size))))" : "")
        if c.keepBest != nil, let best = result.best {
            saved += " · best \(metric.rawValue) \(Console.number(best.value)) at epoch \(best.epoch + 1)"
        }
        console.stage(6, "Save", saved)
        if let last = result.lastCheckpoint { console.detail("checkpoint \(last)") }
        let done: [String: Any] = ["event": "done", "epochs": result.epochs, "step": trainer.stepCount, "model": c.save]
        try log?.write(done.merging(MetricsLog.fields("test", metrics)) { $1 })
        try console.checkWrites()
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
