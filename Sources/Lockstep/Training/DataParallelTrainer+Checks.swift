/// What `fit` checks before it trains, and what a caller may check first with `preflight`: the
/// data against the model and loss, the batch against the workers, a checkpoint to resume
/// against this run. None of it touches a file or a worker.
extension DataParallelTrainer {
    /// Runs every check `fit` makes before it trains — data against the model and loss, batch
    /// against workers, resume against this run — and touches nothing: call it before creating
    /// any file, so that a refused run leaves no trace.
    public func preflight(_ train: any DataSource, _ options: FitOptions) throws {
        let (_, configuration, fingerprint) = try prepare(train, options)
        if let policy = options.checkpoints, policy.run == nil { try RunDirectory.checkCreatable(policy.directory) }
        if let checkpoint = options.resume {
            // As `fit` does: the cheap refusals before the data's comparison (which may hash it).
            try checkResumes(checkpoint, train, options)
            try checkFits(checkpoint, configuration: configuration, data: fingerprint, train: train, options: options)
        }
    }

    /// Refuses a checkpoint that this fit could not continue: one that trained more epochs than
    /// asked for (the fit would do nothing), or whose position lies outside an epoch of this data.
    func checkResumes(_ checkpoint: Checkpoint, _ train: any DataSource, _ options: FitOptions) throws {
        if checkpoint.state.epochsCompleted > options.epochs {
            throw ConfigurationError("cannot resume: the checkpoint has trained \(checkpoint.state.epochsCompleted) epochs, "
                                     + "more than the \(options.epochs) asked for; ask for \(checkpoint.state.epochsCompleted) epochs or more")
        }
        let steps = (train.count + options.batchSize - 1) / max(options.batchSize, 1)
        guard checkpoint.state.stepInEpoch < max(steps, 1) else {
            throw ConfigurationError("cannot resume: a damaged checkpoint: step \(checkpoint.state.stepInEpoch) of an epoch of \(steps) steps")
        }
    }

    func prepare(_ train: any DataSource, _ options: FitOptions) throws
        -> (Sharder, TrainingConfiguration, DataFingerprint) {
        guard options.epochs >= 0 else { throw ConfigurationError("epochs must be non-negative, got \(options.epochs)") }
        try checkFits(train, "training")
        if let validation = options.validation { try checkFits(validation, "validation") }
        if let test = options.test { try checkFits(test, "test") }
        if options.restoreBest && !options.keepBest {
            throw ConfigurationError("restoring the best weights needs keepBest (and a validation split)")
        }
        if options.keepBest && options.validation == nil {
            throw ConfigurationError("keeping the best model needs a validation split")
        }
        if options.earlyStopping.patience != nil && options.validation == nil {
            throw ConfigurationError("early stopping needs a validation split")
        }
        if let validation = options.validation, options.keepBest || options.earlyStopping.patience != nil {
            try options.earlyStopping.metric.check(task: validation.task)
        }
        // A convolution's activations can dwarf its weights: a batch that cannot fit is refused here.
        if let spec { try spec.checkMemory(batchRows: options.batchSize, replicas: workerCount) }
        // Batch norm over vectors needs two rows of a batch: an epoch's last batch of one row
        // would fail at its end, an epoch of training later.
        if let spec, !options.dropLast, train.count % max(options.batchSize, 1) == 1, spec.normalizesVectorsOverTheBatch {
            throw ConfigurationError("the epoch's last batch has 1 row (\(train.count) rows in batches of \(options.batchSize)), and "
                                     + "batch norm needs more than one value per channel: drop it (dropLast, --drop-last) or choose another batch size")
        }
        let sharder = try Sharder(rows: train.count, batchSize: options.batchSize, workers: workerCount,
                                  shuffle: options.shuffle, dropLast: options.dropLast, seed: options.seed)
        // Hashing the data costs a pass over it: only checkpoints need the fingerprint.
        // (Over processes, every process's fingerprint is compared with rank 0's.)
        let needsFingerprint = options.checkpoints != nil || options.resume != nil || processes != nil
        let fingerprint = options.dataFingerprint
            ?? (needsFingerprint ? train.fingerprint() : DataFingerprint(digest: "", description: "not fingerprinted"))
        return (sharder, configuration(options), fingerprint)
    }

    /// Refuses a checkpoint of another run, saying what differs. A checkpoint that fingerprints
    /// its data with SHA-256 (written before XXH3) is compared with the data's SHA-256.
    func checkFits(_ checkpoint: Checkpoint, configuration: TrainingConfiguration, data current: DataFingerprint,
                   train: any DataSource, options: FitOptions) throws {
        let state = checkpoint.state
        let differences = state.configuration.differences(from: configuration)
        guard differences.isEmpty else {
            throw ConfigurationError("cannot resume: the checkpoint's run differs: " + differences.joined(separator: "; "))
        }
        let data: DataFingerprint
        if state.data.hash == current.hash {
            data = current
        } else if let legacy = options.legacyDataFingerprint {
            data = try legacy()
        } else if options.dataFingerprint == nil, let dataset = train as? Dataset {
            data = DataFingerprint(of: dataset, description: current.description, hash: state.data.hash)
        } else {
            throw ConfigurationError("cannot resume: the checkpoint fingerprints its data with \(state.data.hash.rawValue) (written before "
                                     + "Lockstep hashed data with XXH3), and this run's data cannot be hashed that way "
                                     + "(FitOptions.legacyDataFingerprint says how)")
        }
        guard state.data == data else {
            throw ConfigurationError("cannot resume: the data differs (checkpoint: \(state.data.description), \(state.data.summary); "
                                     + "now: \(data.description), \(data.summary))")
        }
        guard checkpoint.buffers.count == model.bufferValues.count else {
            throw ConfigurationError("cannot resume: the checkpoint holds \(checkpoint.buffers.count) buffer values (running statistics), "
                                     + "the model \(model.bufferValues.count)")
        }
        do {
            try model.checkBufferValues(checkpoint.buffers)
            if let best = checkpoint.bestBuffers { try model.checkBufferValues(best) }
        } catch {
            throw ConfigurationError("cannot resume: a damaged checkpoint: \(error)")
        }
        guard checkpoint.parameters.count == model.store.count else {
            throw ConfigurationError("cannot resume: the checkpoint holds \(checkpoint.parameters.count) parameters, the model \(model.store.count)")
        }
        do { try state.validate(); try checkpoint.checkBuffers() } catch {
            throw ConfigurationError("cannot resume: a damaged checkpoint: \(error)")
        }
    }

    /// Refuses data that does not fit the model and loss, naming what differs. A `Dataset`'s
    /// contents are checked too (class indices, finite targets): a source of the caller's own is
    /// checked by its shapes, and a bad sample in it fails the step that draws it.
    func checkFits(_ data: any DataSource, _ what: String) throws {
        if let dataset = data as? Dataset { try dataset.checkContents(what) }
        let count = data.count
        guard count >= 0 else { throw ConfigurationError("the \(what) data source says it has \(count) samples") }
        // The workers share the epoch's order of the rows: 8 bytes a row.
        let orderBytes = Double(count) * 8
        let memory = physicalMemoryBytes()
        guard memory <= 0 || orderBytes < memory / 2 else {
            throw ConfigurationError("the \(what) data has \(count) samples: the workers keep "
                                     + "an epoch's order of 8 bytes a sample, \(Int(orderBytes / 1e9)) GB, more than half this machine's memory")
        }
        guard data.sampleShape.rank <= 3, data.targetShape.rank <= 3 else {
            throw ConfigurationError("the \(what) data's samples \(data.sampleShape) and targets \(data.targetShape) have more than 3 "
                                     + "dimensions (a batch adds one; Lockstep's tensors have at most 4)")
        }
        let replica = model   // rank 0's: its first and last layers say what it takes and gives
        let width = data.targetShape.count, classes = data.classCount
        if let inputs = replica.inputFeatures, data.sampleShape.count != inputs {
            throw ConfigurationError("the \(what) data has \(data.sampleShape.count) features, the model takes \(inputs)")
        }
        if loss.expectsClassIndices && data.task != .classification {
            throw ConfigurationError("\(loss.name) needs class labels, but the \(what) data is a regression set")
        }
        if data.task == .classification, classes < 2 {
            throw ConfigurationError("the \(what) data has \(classes) class\(classes == 1 ? "" : "es"): a classifier needs at least two")
        }
        if !loss.expectsClassIndices && !loss.isBinary, let outputs = replica.outputFeatures, width != outputs {
            throw ConfigurationError("\(loss.name) compares the model's \(outputs) outputs with the \(what) data's targets, which are "
                                     + "\(width) wide: give the model one output per target column"
                                     + (data.task == .classification ? " (or use cross-entropy for class labels)" : ""))
        }
        if loss.isBinary {
            guard data.task == .classification, classes == 2, replica.outputFeatures == 1 else {
                throw ConfigurationError("\(loss.name) trains a binary classifier: a target with two classes and a model with one output "
                                         + "(the \(what) data has \(data.task == .classification ? "\(classes) classes" : "a regression target"), "
                                         + "the model \(replica.outputFeatures ?? 0) outputs)")
            }
        } else if data.task == .classification, let outputs = replica.outputFeatures, classes > outputs {
            throw ConfigurationError("the \(what) data has \(classes) classes, the model gives \(outputs) outputs")
        }
        try checkForward(data, what)
    }

    /// The model's forward pass and the loss on the first rows of `data`, on an inference tape:
    /// a model of the caller's own layers says here, before training and on the caller's thread,
    /// when the data's shape does not fit it.
    func checkForward(_ data: any DataSource, _ what: String) throws {
        guard data.count > 0 else { return }
        let n = min(data.count, 2), tape = Tape(mode: .inference)
        let targets = tape.arena.allocate(max(data.targetBatchShape(rows: n).count, 1), zeroed: false)
        let x = Array(0..<n).withUnsafeBufferPointer { rows in
            tape.input(data.batchShape(rows: n)) { data.gather(rows, features: $0.baseAddress!, targets: targets) }
        }
        let y = tape.leaf(data: targets, grad: nil, shape: data.targetBatchShape(rows: n))
        _ = loss(model(x), y, divisor: Float(n))
        if let failure = tape.failure { throw ConfigurationError("the \(what) data does not fit the model: \(failure)") }
        // A layer the forward pass uses but `children` does not list would be neither trained
        // together (no all-reduce of its gradient) nor saved: refused, by name.
        let owned = Set(model.store.parameters.map(ObjectIdentifier.init))
        for record in tape.values {
            guard let parameter = record.parameter?.takeUnretainedValue(), !owned.contains(ObjectIdentifier(parameter)) else { continue }
            throw ConfigurationError("the model's forward pass uses a parameter '\(parameter.localName)' \(parameter.shape) that is not "
                                     + "among its modules: list the layer that holds it in its module's `children`, so that it is "
                                     + "trained on every worker and saved")
        }
    }
}
