// lockstep-bench: the scaling benchmark of DESIGN.md §5 — samples per second for each workload
// and worker count, beside the machine's own sgemm scaling and memcpy bandwidth. The same as
// `lockstep bench`.
import ArgumentParser
import LockstepCommands

struct LockstepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep-bench",
        abstract: "Measure training throughput of the benchmark workloads for several worker counts.")

    @OptionGroup var options: BenchOptions

    func run() throws { try options.run() }
}

LockstepBench.main()
