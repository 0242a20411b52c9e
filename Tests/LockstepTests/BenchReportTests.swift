import Foundation
import Testing
@testable import Lockstep
@testable import LockstepBenchmarks

/// `lockstep bench`'s verdicts on DESIGN.md §5's targets, as lines and as JSON a script can read.
@Suite struct TheBenchReportChecksItsTargets {
    func result(_ workload: String, workers: Int, samples: Double, communication: Double = 0) -> ScalingResult {
        var phases = PhaseTimings()
        phases.computeSeconds = 1 - communication
        phases.reduceScatterSeconds = communication
        return ScalingResult(workload: workload, workers: workers, threads: min(workers, 2), samplesPerSecond: samples,
                             repetitions: [samples], phases: phases, busBandwidthGBps: nil, gflops: 0, tokensPerSecond: nil)
    }

    var report: ScalingReport {
        ScalingReport(machine: MachineBaseline(sgemmOneThread: 100, sgemmTwoThreads: 200, memcpyGBps: 20), cpus: 2, results: [
            result("linreg", workers: 2, samples: 100), result("linreg", workers: 8, samples: 59),
            result("mlp-large", workers: 1, samples: 100), result("mlp-large", workers: 2, samples: 190, communication: 0.04),
            result("mlp-large", workers: 8, samples: 150),
        ])
    }

    @Test func eachTargetIsAFigureAndAVerdict() {
        let checks = report.checks.map { "\($0.workload) \($0.measure) \($0.met)" }
        #expect(checks == ["mlp-large scaling true", "linreg oversubscription false", "mlp-large oversubscription true",
                           "mlp-large communication true"])
        #expect(report.targets[1] == "linreg oversubscription: 8 workers / 2 = 0.59 (target ≥ 0.60) MISSED")
        #expect(report.targets[3] == "mlp-large all-reduce + optimizer at 2 workers: 4.0% of step time (target ≤ 5%) met")
    }

    @Test func theJSONCarriesTheTargets() throws {
        let object = try JSONSerialization.jsonObject(with: Data(try report.json().utf8)) as? [String: Any]
        let targets = try #require(object?["targets"] as? [[String: Any]])
        #expect(targets.count == 4 && (object?["results"] as? [Any])?.count == 5)
        let linreg = try #require(targets.first { $0["workload"] as? String == "linreg" })
        #expect(linreg["measure"] as? String == "oversubscription" && linreg["target"] as? Double == 0.6
                && linreg["value"] as? Double == 0.59 && linreg["met"] as? Bool == false && linreg["atMost"] as? Bool == false)
    }
}
