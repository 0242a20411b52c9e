import Lockstep
import Foundation

/// The scaling benchmark's results as a table, a check of DESIGN.md §5's targets, and JSON.
public struct ScalingReport: Sendable, Codable {
    public var machine: MachineBaseline
    public var cpus: Int
    public var results: [ScalingResult]

    public init(machine: MachineBaseline, cpus: Int, results: [ScalingResult]) {
        self.machine = machine
        self.cpus = cpus
        self.results = results
    }

    /// One block per workload: samples/s per worker count, speed-up over one worker, GFLOP/s,
    /// the share of all-reduce + optimizer in step time, and bus bandwidth.
    public var table: String {
        var lines = [
            String(format: "machine: %d CPUs · sgemm 1 thread %.1f GFLOP/s, 2 threads %.1f GFLOP/s (×%.2f) · memcpy %.1f GB/s",
                   cpus, machine.sgemmOneThread, machine.sgemmTwoThreads, machine.twoCoreScaling, machine.memcpyGBps),
        ]
        for workload in Workload.all.map(\.name) {
            let rows = results.filter { $0.workload == workload }
            guard let base = rows.first(where: { $0.workers == 1 }) ?? rows.first else { continue }
            lines.append("")
            lines.append(workload)
            lines.append("  workers   samples/s   ×1 worker   GFLOP/s   comm+opt       wait   bus GB/s")
            for r in rows {
                // Phases are worker 0's clock: with several workers per thread it also runs while
                // the thread serves the others, so those columns would mislead.
                let timed = r.threads >= r.workers
                func column(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
                let bus = timed ? r.busBandwidthGBps.map { String(format: "%.1f", $0) } ?? "-" : "-"
                let comm = timed ? String(format: "%.1f%%", 100 * r.phases.communicationAndOptimizerFraction) : "-"
                let wait = timed ? String(format: "%.1f%%", 100 * r.phases.waitSeconds / max(r.phases.totalSeconds, 1e-12)) : "-"
                lines.append(String(format: "  %7d %11.0f %11.2f %9.1f ", r.workers, r.samplesPerSecond,
                                    r.samplesPerSecond / base.samplesPerSecond, r.gflops)
                             + column(comm, 10) + " " + column(wait, 10) + " " + column(bus, 10)
                             + (r.tokensPerSecond.map { String(format: " %9.0f tokens/s", $0) } ?? ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// DESIGN.md §5's scaling, oversubscription and communication targets, where measured, a line each.
    public var targets: [String] { checks.map { $0.line + ($0.met ? " met" : " MISSED") } }

    /// The same targets as figures: what `--json` prints under "targets".
    public var checks: [TargetCheck] {
        func figure(_ w: String, _ n: Int) -> ScalingResult? { results.first { $0.workload == w && $0.workers == n } }
        var out: [TargetCheck] = []
        for w in ["mlp-mnist", "mlp-large"] {
            if let one = figure(w, 1), let two = figure(w, 2) {
                let ratio = two.samplesPerSecond / one.samplesPerSecond / machine.twoCoreScaling
                out.append(TargetCheck(workload: w, measure: "scaling", value: ratio, target: 0.9, atMost: false,
                                       line: String(format: "%@ scaling: 2 workers / 1 = ×%.2f = %.2f of sgemm's ×%.2f (target ≥ 0.90)",
                                                    w, two.samplesPerSecond / one.samplesPerSecond, ratio, machine.twoCoreScaling)))
            }
        }
        // Issue 13 set the three smaller workloads' bar at 0.6 (DESIGN.md §5 had 0.75 for every
        // one): the shorter the step, the more of it is each worker's fixed cost.
        let oversubscription = ["linreg": 0.6, "mlp-small": 0.6, "mlp-mnist": 0.6]
        for w in Workload.all.map(\.name) {
            if let two = figure(w, 2), let eight = figure(w, 8) {
                let ratio = eight.samplesPerSecond / two.samplesPerSecond, target = oversubscription[w] ?? 0.75
                out.append(TargetCheck(workload: w, measure: "oversubscription", value: ratio, target: target, atMost: false,
                                       line: String(format: "%@ oversubscription: 8 workers / 2 = %.2f (target ≥ %.2f)", w, ratio, target)))
            }
        }
        for (w, limit) in [("mlp-large", 0.05), ("mlp-mnist", 0.10)] {
            if let two = figure(w, 2) {
                let f = two.phases.communicationAndOptimizerFraction
                out.append(TargetCheck(workload: w, measure: "communication", value: f, target: limit, atMost: true,
                                       line: String(format: "%@ all-reduce + optimizer at 2 workers: %.1f%% of step time (target ≤ %.0f%%)",
                                                    w, 100 * f, 100 * limit)))
            }
        }
        return out
    }

    /// The report as JSON: the machine, the CPUs, every result, and the targets' checks.
    public func json() throws -> String {
        struct Document: Encodable {
            var machine: MachineBaseline, cpus: Int, results: [ScalingResult], targets: [TargetCheck]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(Document(machine: machine, cpus: cpus, results: results, targets: checks)), as: UTF8.self)
    }
}
