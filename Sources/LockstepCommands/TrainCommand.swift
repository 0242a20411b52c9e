import ArgumentParser
import Foundation
import Lockstep

/// An architecture for `--model`: `linear`, `mlp:64,64[:relu|tanh|gelu]`, or a JSON file holding
/// a model document's `model` object (`{"input_shape": [1, 8, 8], "layers": [...]}`).
struct ModelChoice: ExpressibleByArgument, CustomStringConvertible {
    var hidden: [Int]
    var activation: LayerSpec
    /// The JSON file, when the architecture comes from one.
    var file: String?

    init?(argument: String) {
        if argument.hasSuffix(".json") {
            (hidden, activation, file) = ([], .relu, argument)
            return
        }
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "linear" where parts.count == 1:
            hidden = []
            activation = .relu
        case "mlp" where parts.count <= 3:
            let widths = parts.count > 1 ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map { Int($0) } : [64]
            guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
            hidden = widths.map { $0! }
            switch parts.count > 2 ? parts[2] : "relu" {
            case "relu": activation = .relu
            case "tanh": activation = .tanh
            case "gelu": activation = .gelu
            case "sigmoid": activation = .sigmoid
            default: return nil
            }
        default:
            return nil
        }
    }

    var description: String { file ?? (hidden.isEmpty ? "linear" : "mlp:" + hidden.map(String.init).joined(separator: ",")) }
}

enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable { case sgd, adam, adamw }
enum ScheduleChoice: String, ExpressibleByArgument, CaseIterable { case constant, step, cosine }

/// `lockstep train`: the six pillars from the command line.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on N worker threads, evaluate it on the test split and save it.",
        discussion: "With no --data, trains the built-in line y = 0.7·x + 0.3 and prints the learned weight and bias.")

    @Option(help: "A CSV or .npy file (target in the last column unless --target), or builtin:linear|spirals|blobs.")
    var data: String = "builtin:linear"
    @Option(help: "The target column of a CSV file (default: the last).")
    var target: String?
    @Option(help: "regression or classification (default: inferred from the target).")
    var task: LearningTask?

    @Option(help: "linear, mlp:64,64[:relu|tanh|gelu] (hidden widths and activation), or FILE.json (layers, e.g. conv2d, batch_norm2d; see README). Default: mlp:64, or linear for the built-in line.")
    var model: ModelChoice?
    @Option(parsing: .unconditional, help: "Dropout probability after each hidden activation.")
    var dropout: Float = 0

    @Option(parsing: .unconditional, help: "Workers, each a model replica with its shard of every batch (default: the CPUs this process may use); more workers than CPUs run in turn on one thread per CPU.")
    var workers: Int?
    @Option(help: "packed (fill NUMA nodes one by one) or spread (round-robin over nodes).")
    var placement: Placement = .packed

    @Option(parsing: .unconditional, help: "Passes over the training split.")
    var epochs: Int = 100
    @Option(parsing: .unconditional, help: "Rows per global batch, shared among the workers (at most the training rows).")
    var batchSize: Int = 32
    @Flag(help: "Skip each epoch's last, smaller batch (PyTorch's drop_last; batch norm needs more than one row).")
    var dropLast = false
    @Option(help: "mse, l1, huber, cross-entropy or bce (default: cross-entropy for classification, mse for regression).")
    var loss: LossSpec?
    @Option(help: "sgd, adam or adamw.")
    var optimizer: OptimizerChoice = .adam
    @Option(parsing: .unconditional, help: "Learning rate (default: 0.001 for Adam and AdamW, 0.01 for SGD).")
    var lr: Float?
    @Option(parsing: .unconditional, help: "SGD momentum.")
    var momentum: Float = 0
    @Option(parsing: .unconditional, help: "Weight decay (L2 for SGD and Adam, decoupled for AdamW; AdamW's default 0.01).")
    var weightDecay: Float?
    @Option(help: "Learning-rate schedule: constant, step or cosine (over the whole run).")
    var schedule: ScheduleChoice = .constant
    @Option(parsing: .unconditional, help: "With --schedule step: multiply the learning rate by --gamma every this many epochs.")
    var stepEvery: Int = 30
    @Option(parsing: .unconditional, help: "With --schedule step: the factor.")
    var gamma: Float = 0.1
    @Option(parsing: .unconditional, help: "Linear warm-up steps before the schedule.")
    var warmup: Int = 0
    @Option(parsing: .unconditional, help: "Clip the global gradient norm to this value.")
    var clipNorm: Float?

    @Option(parsing: .unconditional, help: "Fraction of rows held out for the final test.")
    var testFraction: Double = 0.2
    @Option(parsing: .unconditional, help: "Fraction of rows held out for validation (early stopping, best model).")
    var valFraction: Double = 0
    @Flag(inversion: .prefixedNo, help: "Standardize features with the training split's mean and std.")
    var standardize = true
    @Option(parsing: .unconditional, help: "Stop after this many evaluations without a better validation loss.")
    var patience: Int?
    @Option(help: "Save the model at its best val_loss, val_accuracy or val_r2 instead of the last.")
    var keepBest: MonitoredMetric?
    @Option(parsing: .unconditional, help: "Seeds the split, the initial weights, shuffling and dropout.")
    var seed: UInt64 = 0

    @Option(help: "Where to save the trained model (safetensors).")
    var save: String = "model.safetensors"
    @Option(help: "Where checkpoints go: each run writes into a folder of its own in it, run-N.")
    var checkpointDir: String = "checkpoints"
    @Option(parsing: .unconditional, help: "Write a checkpoint every this many epochs (and at the end and on Ctrl-C).")
    var checkpointEvery: Int = 10
    @Flag(help: "Continue the newest run in --checkpoint-dir (its newest readable checkpoint).")
    var resume = false
    @Option(help: "Continue from this checkpoint file or run folder (e.g. checkpoints/run-2).")
    var resumeFrom: String?
    @Option(help: "Write one JSON object per evaluation to this file (JSON Lines).")
    var metrics: String?
    @Option(help: "Draw the loss and metric curves into this SVG file.")
    var plot: String?
    @Flag(help: "Print nothing but errors.")
    var quiet = false

    var workerCount: Int { workers ?? Topology.current().cpuCount }

    func validate() throws {
        guard workerCount >= 1 else { throw ValidationError("--workers must be at least 1, got \(workerCount)") }
        guard workerCount <= Topology.maxWorkers else { throw ValidationError("--workers must be at most \(Topology.maxWorkers), got \(workerCount)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard batchSize >= workerCount else {
            throw ValidationError("--batch-size \(batchSize) is smaller than --workers \(workerCount): every worker needs at least one row of each batch")
        }
        guard (1...1_000_000).contains(epochs) else { throw ValidationError("--epochs must be in 1…1000000, got \(epochs)") }
        guard (0..<1).contains(testFraction), testFraction > 0 else { throw ValidationError("--test-fraction must be in (0, 1), got \(testFraction)") }
        guard (0..<1).contains(valFraction) else { throw ValidationError("--val-fraction must be in [0, 1), got \(valFraction)") }
        guard testFraction + valFraction < 1 else { throw ValidationError("--test-fraction and --val-fraction leave no rows to train on") }
        guard (0..<1).contains(dropout) else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        if let lr { guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive, got \(lr)") } }
        guard momentum >= 0, momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        if let weightDecay {
            guard weightDecay >= 0, weightDecay.isFinite else { throw ValidationError("--weight-decay must be a finite number ≥ 0, got \(weightDecay)") }
        }
        if let clipNorm { guard clipNorm > 0, clipNorm.isFinite else { throw ValidationError("--clip-norm must be a finite positive number, got \(clipNorm)") } }
        guard gamma > 0, gamma.isFinite else { throw ValidationError("--gamma must be a finite positive factor, got \(gamma)") }
        guard (0...1_000_000_000).contains(warmup) else { throw ValidationError("--warmup must be in 0…1000000000 steps, got \(warmup)") }
        guard (1...1_000_000).contains(stepEvery) else { throw ValidationError("--step-every must be in 1…1000000, got \(stepEvery)") }
        guard (1...1_000_000).contains(checkpointEvery) else { throw ValidationError("--checkpoint-every must be in 1…1000000, got \(checkpointEvery)") }
        if resume && resumeFrom != nil { throw ValidationError("--resume and --resume-from: give one") }
        guard !checkpointDir.isEmpty else { throw ValidationError("--checkpoint-dir needs a directory name") }
        if let patience {
            guard patience >= 1 else { throw ValidationError("--patience must be at least 1") }
            guard valFraction > 0 else { throw ValidationError("--patience needs a validation split: add --val-fraction") }
        }
        if keepBest != nil, valFraction == 0 { throw ValidationError("--keep-best needs a validation split: add --val-fraction") }
        if momentum > 0, optimizer != .sgd { throw ValidationError("--momentum applies to --optimizer sgd") }
        // An output that is an input, or another output, is refused before anything runs.
        let outputs = [("--save", save)] + [("--metrics", metrics), ("--plot", plot)].compactMap { flag, path in path.map { (flag, $0) } }
        if let (flag, _) = outputs.first(where: { $0.1 == "-" || $0.1 == "/dev/stdout" }), !quiet {
            throw ValidationError("\(flag) - writes to standard output, where the progress lines go too: add --quiet")
        }
        do {
            try FileIdentity.checkDistinct(inputs: data.hasPrefix("builtin:") ? [] : [("--data", data)], outputs: outputs)
            try RunDirectory.checkOutputs(outside: checkpointDir, outputs: outputs)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        let job: ProcessJob
        do { job = try ProcessJob.join() } catch { throw failure(error) }
        try job.run { try TrainingSession(self, job: job).run() }
    }
}
