import ArgumentParser
import Foundation
import Lockstep

/// `lockstep info`: the machine as Lockstep sees it; `lockstep info MODEL`: what a model file holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show CPUs, NUMA nodes, BLAS and the build configuration, or what a model file holds.")

    @Argument(help: "A model file written by `lockstep train`: its architecture, data and training summary.")
    var model: String?

    func run() throws {
        do {
            if let model { try showModel(model) } else { try show() }
        } catch { throw failure(error) }
    }

    /// The model file's architecture, parameter count, data and training summary.
    private func showModel(_ path: String) throws {
        let doc = try SavedModel.load(from: path).document
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
