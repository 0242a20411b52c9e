import ArgumentParser
import Foundation
import Lockstep

/// `lockstep info`: the machine as Lockstep sees it.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show CPUs, NUMA nodes, BLAS and the build configuration.")

    func run() throws {
        do { try show() } catch { throw failure(error) }
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
