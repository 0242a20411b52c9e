import Foundation

/// Everything needed to continue a run exactly where it stopped (DESIGN.md §3): the weights, the
/// full optimizer state (gathered from every worker's shard), the position of the sampler, the
/// early-stopping and best-model state, the metrics history, and the fingerprints of the data
/// and the configuration. Randomness is keyed by (seed, epoch, step, row), so the position is
/// the whole random state.
///
/// Saved as safetensors: flat tensors "parameters", "best_parameters", "optimizer.NAME", and, for a
/// model with buffers (running statistics), "buffers" and "best_buffers"; the
/// rest as JSON under the metadata key "lockstep_checkpoint".
public struct Checkpoint: Sendable {
    /// Everything but the flat buffers, stored as JSON in the file's metadata.
    public struct State: Codable, Sendable, Equatable {
        /// The schema version this Lockstep writes; newer ones are refused on reading. Version 2
        /// checkpoints carry checksums of their state and tensors, and are damaged without them.
        public static let currentSchemaVersion = 2
        /// The schema version of the file.
        public var schemaVersion = State.currentSchemaVersion
        /// The run's configuration, which a resume must match.
        public var configuration: TrainingConfiguration
        /// The training data's fingerprint, which a resume must match.
        public var data: DataFingerprint
        /// Workers of the run that wrote it; a resume with another count warns.
        public var workers: Int
        /// The epoch to continue in and the steps of it already taken.
        public var epoch: Int
        /// Steps of `epoch` already taken.
        public var stepInEpoch: Int
        /// Optimizer steps taken in the whole run.
        public var step: Int
        /// Σ of the batch losses so far in the unfinished epoch (for identical epoch metrics).
        public var epochLossSum: Double
        /// The optimizer's `stepCount`.
        public var optimizerStepCount: Int
        /// The optimizer's learning rate when the checkpoint was taken.
        public var learningRate: Float
        /// Early-stopping state: the best figure so far and the patience used up.
        public var earlyStopping: EarlyStopping
        /// The overfitting watch's state.
        public var overfitting: OverfittingWatch
        /// The report of every completed epoch.
        public var history: [EpochReport]
        /// Epochs finished in the whole run.
        public var epochsCompleted: Int

        /// The largest count (epochs, steps) a checkpoint may hold: far past any real run, far
        /// from overflowing the arithmetic that continues it.
        public static let maxCount = 1 << 40

        /// Throws unless the counters are in range and agree with each other.
        public func validate() throws {
            let counts = [("epoch", epoch), ("step_in_epoch", stepInEpoch), ("step", step),
                          ("optimizer_step_count", optimizerStepCount), ("epochs_completed", epochsCompleted)]
            for (name, value) in counts where !(0...Self.maxCount).contains(value) {
                throw ConfigurationError("'\(name)' is \(value); it must be in 0…\(Self.maxCount)")
            }
            guard schemaVersion >= 1 else { throw ConfigurationError("schema version \(schemaVersion)") }
            guard (1...Topology.maxWorkers).contains(workers) else { throw ConfigurationError("'workers' is \(workers)") }
            guard learningRate.isFinite, learningRate >= 0 else { throw ConfigurationError("'learning_rate' is \(learningRate)") }
            // The sum of an epoch's step losses so far: each a finite Float, so their mean is one too.
            guard epochLossSum.isFinite, abs(epochLossSum) / Double(max(stepInEpoch, 1)) <= Double(Float.greatestFiniteMagnitude) else {
                throw ConfigurationError("'epoch_loss_sum' is \(epochLossSum), not the sum of \(stepInEpoch) finite losses")
            }
            guard epochsCompleted <= epoch + 1, history.count <= epochsCompleted, stepInEpoch <= step, optimizerStepCount <= step else {
                throw ConfigurationError("its counters disagree (epoch \(epoch), step \(step), step in epoch \(stepInEpoch), "
                                         + "epochs completed \(epochsCompleted), \(history.count) reports)")
            }
        }

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version", configuration, data, workers, epoch, stepInEpoch = "step_in_epoch", step
            case epochLossSum = "epoch_loss_sum", optimizerStepCount = "optimizer_step_count", learningRate = "learning_rate"
            case earlyStopping = "early_stopping", overfitting, history, epochsCompleted = "epochs_completed"
        }
    }

    /// The run's position, configuration and bookkeeping.
    public var state: State

    /// Whether every buffer holds one value per parameter, and every value is finite.
    func checkBuffers() throws {
        let n = parameters.count
        for (name, buffer) in [("best_parameters", bestParameters ?? parameters)] + optimizerBuffers.map({ ("optimizer." + $0.key, $0.value) })
        where buffer.count != n {
            throw ConfigurationError("'\(name)' holds \(buffer.count) values for \(n) parameters")
        }
        if !buffers.isEmpty, (bestParameters == nil) != (bestBuffers == nil) {
            throw ConfigurationError("'best_buffers' and 'best_parameters' do not come together")
        }
        if let bestBuffers, bestBuffers.count != buffers.count {
            throw ConfigurationError("'best_buffers' holds \(bestBuffers.count) values, 'buffers' \(buffers.count)")
        }
        for (name, buffer) in [("parameters", parameters), ("best_parameters", bestParameters ?? []), ("buffers", buffers),
                               ("best_buffers", bestBuffers ?? [])]
            + optimizerBuffers.sorted(by: { $0.key < $1.key }).map({ ("optimizer." + $0.key, $0.value) })
        where !buffer.allSatisfy(\.isFinite) {
            throw ConfigurationError("'\(name)' holds values that are not finite")
        }
    }
    /// The model's flat parameter buffer (the layout of `ParameterStore`).
    public var parameters: [Float]
    /// The best model's flat parameters, when best-model keeping is on and a best exists.
    public var bestParameters: [Float]?
    /// Each optimizer buffer over the whole flat parameter buffer ("momentum_buffer", "exp_avg", …).
    public var optimizerBuffers: [String: [Float]]
    /// The model's flat buffers (running statistics; `Sequential.bufferValues`), empty for none.
    public var buffers: [Float]
    /// The best model's flat buffers, beside `bestParameters`.
    public var bestBuffers: [Float]?

    /// A checkpoint from its parts (`read` checks that every buffer holds one value per parameter).
    public init(state: State, parameters: [Float], bestParameters: [Float]?, optimizerBuffers: [String: [Float]],
                buffers: [Float] = [], bestBuffers: [Float]? = nil) {
        self.state = state
        self.parameters = parameters
        self.bestParameters = bestParameters
        self.optimizerBuffers = optimizerBuffers
        self.buffers = buffers
        self.bestBuffers = buffers.isEmpty ? nil : bestBuffers
    }

    /// The checkpoint as a safetensors file in memory, ready to write.
    public func safetensors() throws -> SafeTensors {
        var file = SafeTensors()
        try file.setDocument(state, forKey: Self.stateKey)
        parameters.withUnsafeBufferPointer { file.append("parameters", floats: $0, shape: [$0.count]) }
        bestParameters?.withUnsafeBufferPointer { file.append("best_parameters", floats: $0, shape: [$0.count]) }
        if !buffers.isEmpty { buffers.withUnsafeBufferPointer { file.append("buffers", floats: $0, shape: [$0.count]) } }
        bestBuffers?.withUnsafeBufferPointer { file.append("best_buffers", floats: $0, shape: [$0.count]) }
        for name in optimizerBuffers.keys.sorted() {
            optimizerBuffers[name]!.withUnsafeBufferPointer { file.append("optimizer." + name, floats: $0, shape: [$0.count]) }
        }
        file.metadata[Self.tensorsDigestKey] = tensorsDigest()
        file.metadata[Self.stateDigestKey] = Self.digest(of: file.metadata[Self.stateKey]!)
        return file
    }

    /// The metadata key of the state's JSON.
    package static let stateKey = "lockstep_checkpoint"

    /// The metadata key of the XXH3-128 of the state's JSON, as the file holds it: a byte changed in
    /// the state (the step, the worker count, a layer's width) otherwise read as another run's
    /// place, and a resume went on from it.
    public static let stateDigestKey = "lockstep_checkpoint_xxh3"

    /// XXH3-128 of `text`'s UTF-8 bytes.
    static func digest(of text: String) -> String {
        var hash = XXH3()
        hash.update(text)
        return hash.hexDigest()
    }

    /// The metadata key of the XXH3-128 of the checkpoint's tensors. Checkpoints written before it
    /// existed have none and are read as before; one whose tensors no longer match it is damaged
    /// (a flipped byte in a tensor otherwise resumed without complaint).
    public static let tensorsDigestKey = "lockstep_tensors_xxh3"

    /// XXH3-128 over every tensor's name and values, in the order the file lays them out.
    func tensorsDigest() -> String {
        var hash = XXH3()
        func add(_ name: String, _ values: [Float]?) {
            guard let values else { return }
            hash.update(name)
            hash.update([0])
            values.withUnsafeBytes { hash.update($0) }
        }
        add("parameters", parameters)
        add("best_parameters", bestParameters)
        add("buffers", buffers.isEmpty ? nil : buffers)
        add("best_buffers", bestBuffers)
        for name in optimizerBuffers.keys.sorted() { add("optimizer." + name, optimizerBuffers[name]) }
        return hash.hexDigest()
    }

    /// Writes the checkpoint atomically.
    public func write(to path: String) throws { try safetensors().write(to: path) }

    /// Reads and validates a checkpoint; throws `FileError` for a damaged file, one of another
    /// format, or one of a newer schema.
    public static func read(at path: String) throws -> Checkpoint {
        let file = try SafeTensors.read(at: path)
        // The state's checksum first: an edited byte may leave JSON that no longer decodes.
        if let stored = file.metadata[stateDigestKey], let json = file.metadata[stateKey], stored != digest(of: json) {
            throw FileError(path: path, "a damaged checkpoint: its state does not match the checksum written with it")
        }
        let state = try file.document(State.self, forKey: stateKey, path: path,
                                      missing: "not a Lockstep checkpoint (no checkpoint metadata)")
        guard state.schemaVersion <= State.currentSchemaVersion else {
            throw FileError(path: path, "checkpoint schema version \(state.schemaVersion) is newer than this Lockstep reads")
        }
        // From version 2 on both checksums are written: one missing is a damaged key, not an older file.
        if state.schemaVersion >= 2, file.metadata[stateDigestKey] == nil || file.metadata[tensorsDigestKey] == nil {
            throw FileError(path: path, "a damaged checkpoint: its checksums are missing")
        }
        do { try state.validate() } catch { throw FileError(path: path, "a damaged checkpoint: \(error)") }
        func floats(_ name: String) throws -> [Float] { try file.tensor(name).scalars }
        guard file["parameters"] != nil else { throw FileError(path: path, "a damaged checkpoint: it holds no parameters") }
        var buffers: [String: [Float]] = [:]
        for name in file.names where name.hasPrefix("optimizer.") { buffers[String(name.dropFirst(10))] = try floats(name) }
        let checkpoint = Checkpoint(state: state, parameters: try floats("parameters"),
                                    bestParameters: file["best_parameters"] != nil ? try floats("best_parameters") : nil,
                                    optimizerBuffers: buffers,
                                    buffers: file["buffers"] != nil ? try floats("buffers") : [],
                                    bestBuffers: file["best_buffers"] != nil ? try floats("best_buffers") : nil)
        do { try checkpoint.checkBuffers() } catch { throw FileError(path: path, "a damaged checkpoint: \(error)") }
        if let stored = file.metadata[tensorsDigestKey], stored != checkpoint.tensorsDigest() {
            throw FileError(path: path, "a damaged checkpoint: its tensors do not match the checksum written with them")
        }
        return checkpoint
    }

    /// The most epoch reports a checkpoint keeps: the latest ones. Its state is JSON in the
    /// safetensors header, which readers (this one too) cap at 100 MB; a report takes about 240
    /// bytes, so a run of half a million epochs wrote a checkpoint no reader would open, and every
    /// checkpoint of a long run rewrote its whole past. A run resumed from a checkpoint has these
    /// reports in its history; the metrics file (`--metrics`) keeps every epoch.
    public static let historyLimit = 10_000

    /// The file name for the checkpoint after `step` optimizer steps; names sort by step.
    /// (Counters in a checkpoint are at most `State.maxCount`.)
    public static func fileName(step: Int) -> String {
        let digits = String(step)
        return "checkpoint-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits + ".safetensors"
    }

    /// Whether `error`, from `read(at:)`, already says the file is a checkpoint that cannot be
    /// used: damaged, or of a schema this Lockstep does not read.
    package static func saysDamaged(_ error: FileError) -> Bool {
        error.message.hasPrefix("a damaged checkpoint") || error.message.hasPrefix("checkpoint schema")
    }

    /// `read(at:)`'s refusal of a file that is a checkpoint by its name, said as a damaged
    /// checkpoint (a file cut short is no longer safetensors at all: the parser's words say how).
    package static func asDamaged(_ error: FileError) -> FileError {
        saysDamaged(error) ? error : FileError(path: error.path, "a damaged checkpoint: \(error.message)")
    }

    /// Whether `name` (a file's last component) is one `fileName(step:)` could have written.
    public static func isFileName(_ name: String) -> Bool {
        name.hasPrefix("checkpoint-") && name.hasSuffix(".safetensors")
    }

    /// Checkpoint files in `directory`, oldest first: regular files with a checkpoint's name, as
    /// the run writes them. A folder, a FIFO or a link named like one is not a checkpoint: taken
    /// for the newest, it hid the run's real checkpoints from `info` and counted against `keep`
    /// (a link to an older checkpoint was resumed from, and the pruning that followed deleted
    /// its target).
    public static func files(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter(isFileName).sorted()
            .map { PathText.joined(directory, $0) }
            .filter { path in
                var info = stat()
                return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
            }
    }

    /// The newest checkpoint file in `directory`, if any.
    public static func latest(in directory: String) -> String? { files(in: directory).last }
}
