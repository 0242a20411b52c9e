import ArgumentParser
import Foundation
import Lockstep

/// `lockstep info`: the machine as Lockstep sees it; `lockstep info MODEL`: what a model file (or
/// a checkpoint of a run) holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show CPUs, NUMA nodes, BLAS and the build configuration, or what a model file holds.")

    @Argument(help: "A model file written by `lockstep train`: its architecture, data and training summary; or one of a run's checkpoints: where the run stands.")
    var model: String?

    func run() throws {
        do {
            if let model { try showModel(model) } else { try show() }
        } catch { throw failure(error) }
    }

    /// The model file's architecture, parameter count, data and training summary.
    private func showModel(_ path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            // A run's folder, as `--resume-from` takes it: the checkpoint a resume would take, its
            // newest readable one, newer unreadable ones named in warnings (as the resume names them).
            if let reason = MissingFile.unlistable(path) { throw FileError(path: path, reason) }
            guard !Checkpoint.files(in: path).isEmpty else {
                throw FileError(path: path, "a folder without checkpoints: name a model file, a checkpoint or a run's folder (checkpoints/run-N)")
            }
            let point = try ResumePoint.named(path)
            for warning in point.warnings { Console.error("warning: " + warning) }
            return try showCheckpoint(point.checkpoint, path: point.path)
        }
        let doc: ModelDocument
        do { doc = try SavedModel.load(from: path).document } catch let modelError {
            // A run's checkpoint is a safetensors file too, with its own metadata: a damaged one
            // is named as a damaged checkpoint, a file that is neither keeps the model's error.
            // A file named as a run names its checkpoints that is not even safetensors (truncated,
            // bytes appended) is a damaged checkpoint too: the parser's words say how.
            let checkpoint: Checkpoint
            do { checkpoint = try Checkpoint.read(at: path) } catch let error as FileError
                where Checkpoint.saysDamaged(error) || Checkpoint.isFileName(PathText.lastComponent(of: path)) {
                throw Checkpoint.asDamaged(error)
            } catch { throw modelError }
            return try showCheckpoint(checkpoint, path: path)
        }
        var lines = ["Model       \(doc.spec.summary)", "Parameters  \(try doc.spec.checkedParameterCount())"]
        let target = doc.task == .classification
            ? "'\(doc.targetName)', \(doc.classLabels.count) classes (\(doc.classLabels.prefix(12).joined(separator: ", "))\(doc.classLabels.count > 12 ? ", …" : ""))"
            : "'\(doc.targetName)'" + (doc.targetStandardization != nil ? ", standardized" : "")
        lines.append("Task        \(doc.task.rawValue) of \(target)")
        lines.append("Features    \(doc.featureNames.count)" + (doc.standardization != nil ? ", standardized" : "")
                     + (doc.spec.inputShape.map { ", as samples of \($0)" } ?? ""))
        if let s = doc.summary {
            lines.append("Trained     \(s.epochs) epochs, \(s.steps) steps on \(s.workers) worker\(s.workers == 1 ? "" : "s") · batch \(s.batchSize) · "
                         + "\(s.loss) · \(s.optimizer) · seed \(s.seed)")
            if let test = s.test { lines.append("Test        " + describe(test)) }
        }
        try Console.output(lines.joined(separator: "\n") + "\n")
    }

    /// Where the run that wrote the checkpoint stands, and how to go on from it.
    private func showCheckpoint(_ checkpoint: Checkpoint, path: String) throws {
        let s = checkpoint.state, c = s.configuration
        var lines = ["Checkpoint  step \(s.step) of a run: \(s.epochsCompleted) epoch\(s.epochsCompleted == 1 ? "" : "s") done"
                     + (s.stepInEpoch > 0 ? ", \(s.stepInEpoch) steps into epoch \(s.epoch + 1)" : "")
                     + " · \(s.workers) worker\(s.workers == 1 ? "" : "s")"]
        if let spec = c.model {
            lines.append("Model       \(spec.summary)")
            lines.append("Parameters  \(try spec.checkedParameterCount())")
        } else if let layout = c.layout {
            lines.append("Model       \(layout)")
        }
        lines.append("Training    batch \(c.batchSize) · \(c.loss) · \(c.optimizer.summary) · learning rate now \(s.learningRate) · seed \(c.seed)")
        lines.append("Data        \(s.data.description)")
        if let last = s.history.last {
            lines.append("Last epoch  \(last.epoch + 1): train loss \(Console.number(last.trainLoss))"
                         + (last.validation.map { " · validation " + describe($0) } ?? ""))
        }
        lines.append("Resume      lockstep train (the run's options) --resume-from \(path)")
        try Console.output(lines.joined(separator: "\n") + "\n")
    }

    private func show() throws {
        BLAS.useOneThreadPerCall()
        let topology = Topology.current()
        var lines: [String] = []
        lines.append("CPUs        \(topology.cpuCount) usable (\(Topology.ranges(topology.nodes.flatMap { $0 }.sorted())))")
        lines.append("NUMA        \(topology)")
        lines.append("BLAS        \(BLAS.configuration) · \(BLAS.threads) thread\(BLAS.threads == 1 ? "" : "s") per call")
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        var name = utsname()
        uname(&name)
        let system = withUnsafeBytes(of: &name.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        lines.append("Build       \(configuration) · \(system) \(release) \(machine)")
        try Console.output(lines.joined(separator: "\n") + "\n")
    }
}
