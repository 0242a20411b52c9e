// lockstep-bench: the scaling benchmark of DESIGN.md §5 — samples per second for each workload
// and worker count, beside the machine's own sgemm scaling and memcpy bandwidth.
import ArgumentParser
import Foundation
import Lockstep

struct LockstepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep-bench",
        abstract: "Measure training throughput of the benchmark workloads for several worker counts.")

    @Option(name: .long, help: "Workloads, comma-separated (\(Workload.all.map(\.name).joined(separator: ", "))).")
    var workload: String = Workload.all.map(\.name).joined(separator: ",")

    @Option(name: .long, help: "Worker counts, comma-separated.")
    var workers: String = "1,2,4,8"

    @Option(name: .long, help: "Measured repetitions per configuration; the median is reported.")
    var repetitions: Int = 3

    @Option(name: .long, help: "Seconds each repetition lasts at least.")
    var seconds: Double = 1

    @Option(name: .long, help: "Placement of workers over NUMA nodes (packed, spread).")
    var placement: Placement = .packed

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let workloads = try workload.split(separator: ",").map { name in
            guard let w = Workload.named(String(name)) else { throw ValidationError("unknown workload '\(name)'") }
            return w
        }
        let counts = try workers.split(separator: ",").map { text in
            guard let n = Int(text), n >= 1 else { throw ValidationError("worker counts must be positive integers, got '\(text)'") }
            return n
        }
        BLAS.useOneThreadPerCall()
        let machine = MachineBaseline.measure()
        var results: [ScalingResult] = []
        for w in workloads {
            results += try ScalingBenchmark.run(w, workers: counts, repetitions: repetitions, minimumSeconds: seconds, placement: placement)
            if !json { FileHandle.standardError.write(Data("measured \(w.name)\n".utf8)) }
        }
        let report = ScalingReport(machine: machine, cpus: Topology.current().cpuCount, results: results)
        if json {
            print(try report.json())
        } else {
            print(report.table)
            print("")
            report.targets.forEach { print($0) }
        }
    }
}

extension Placement: ExpressibleByArgument {}

LockstepBench.main()
