import ArgumentParser
import Foundation
import Lockstep
import LockstepBenchmarks

/// The scaling benchmark's options, shared by `lockstep bench` and `lockstep-bench`.
public struct BenchOptions: ParsableArguments {
    @Option(help: "Workloads, comma-separated (\(Workload.all.map(\.name).joined(separator: ", "))).")
    var workload: String = Workload.all.map(\.name).joined(separator: ",")
    @Option(help: "Worker counts, comma-separated.")
    var workers: String = "1,2,4,8"
    @Option(help: "Measured repetitions per configuration; the median is reported.")
    var repetitions: Int = 3
    @Option(help: "Seconds each repetition lasts at least.")
    var seconds: Double = 1
    @Option(help: "Placement of workers over NUMA nodes (packed, spread).")
    var placement: Placement = .packed
    @Flag(help: "Print the report as JSON.")
    var json = false
    @Flag(help: "Time the step's collectives alone (reduce-scatter + all-gather, 4 KB to 64 MB) for each worker count; under mpirun, across the job's processes.")
    var collectives = false

    public init() {}

    public func validate() throws {
        let chosen = try workloads(), counts = try workerCounts()
        // Each worker takes at least one row of a batch (the collectives alone have no batch).
        if !collectives, let most = counts.max(), let small = chosen.min(by: { $0.batchSize < $1.batchSize }), most > small.batchSize {
            throw ValidationError("--workers \(most) is more than \(small.name)'s batch of \(small.batchSize) rows: each worker needs a row")
        }
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repetitions must be in 1…1000, got \(repetitions)") }
        guard seconds.isFinite, seconds > 0, seconds <= 3600 else {
            throw ValidationError("--seconds must be a number of seconds in (0, 3600], got \(seconds)")
        }
    }

    func workloads() throws -> [Workload] {
        let names = workload.split(separator: ",", omittingEmptySubsequences: false)
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw ValidationError("--workload needs workload names separated by commas, got '\(workload)'")
        }
        if let twice = firstRepeated(names) { throw ValidationError("--workload names '\(twice)' twice; each workload is measured once") }
        return try names.map { name in
            guard let w = Workload.named(String(name)) else {
                throw ValidationError("unknown workload '\(name)'; there are \(Workload.all.map(\.name).joined(separator: ", "))")
            }
            return w
        }
    }

    func workerCounts() throws -> [Int] {
        let texts = workers.split(separator: ",", omittingEmptySubsequences: false)
        guard !texts.contains(where: \.isEmpty) else { throw ValidationError("--workers needs counts separated by commas, got '\(workers)'") }
        let counts = try texts.map { text in
            guard let n = Int(text), (1...Topology.maxWorkers).contains(n) else {
                throw ValidationError("worker counts must be integers in 1…\(Topology.maxWorkers), got '\(text)'")
            }
            return n
        }
        if let twice = firstRepeated(counts) { throw ValidationError("--workers lists \(twice) twice; each count is measured once") }
        return counts
    }

    /// The first element that appeared before it, if any.
    private func firstRepeated<T: Hashable>(_ items: [T]) -> T? {
        var seen = Set<T>()
        return items.first { !seen.insert($0).inserted }
    }

    /// Measures, then prints the table and the targets (or JSON).
    public func run() throws {
        BLAS.useOneThreadPerCall()
        if collectives {
            let job = try ProcessJob.join()
            return try job.run { try runCollectives(job) }
        }
        let machine = try MachineBaseline.measure()
        var results: [ScalingResult] = []
        for w in try workloads() {
            results += try ScalingBenchmark.run(w, workers: try workerCounts(), repetitions: repetitions, minimumSeconds: seconds,
                                                placement: placement)
            if !json { Console.error("measured \(w.name)") }
        }
        let report = ScalingReport(machine: machine, cpus: Topology.current().cpuCount, results: results)
        if json {
            try Console.output(try report.json() + "\n")
        } else {
            try Console.output(([report.table, ""] + report.targets).joined(separator: "\n") + "\n")
        }
    }
}

/// The collective benchmark of one job shape, as `lockstep bench --collectives --json` prints it.
struct CollectiveRun: Codable {
    var processes: Int
    var workers: Int
    var results: [CollectiveResult]
}

extension BenchOptions {
    /// The collective benchmark on each worker count, over the job's processes; rank 0 prints.
    /// One rank in all moves nothing, so that shape is left out.
    func runCollectives(_ job: ProcessJob) throws {
        var runs: [CollectiveRun] = []
        for w in try workerCounts() where w * job.count > 1 {
            let launcher = try ThreadLauncher(ranks: w, threads: min(w, Topology.current().cpuCount), across: job.transport)
            runs.append(CollectiveRun(processes: job.count, workers: w, results: try CollectiveBenchmark.run(launcher, repetitions: max(repetitions, 3))))
        }
        guard job.isRoot else { return }
        guard !runs.isEmpty else { throw ValidationError("one worker in one process moves nothing: give --workers 2 or more, or run under mpirun") }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try Console.output(String(decoding: try encoder.encode(runs), as: UTF8.self) + "\n")
        } else {
            let tables = runs.map { run in
                CollectiveBenchmark.table(run.results, title: run.processes > 1 ? "\(run.processes) processes × \(run.workers) workers (MPI)"
                                                                                : "\(run.workers) workers (threads)")
            }
            try Console.output(tables.joined(separator: "\n\n") + "\n")
        }
    }
}

/// `lockstep bench`: training throughput of the benchmark workloads per worker count.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure training samples per second of the benchmark workloads for several worker counts.")

    @OptionGroup var options: BenchOptions

    func run() throws {
        do { try options.run() } catch let exit as ExitCode { throw exit } catch { throw failure(error) }
    }
}
