import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import LockstepCommands

/// `lockstep train`, end to end: the built binary, its screen, its files.
@Suite struct TrainCommandEndToEnd {
    @Test func theDefaultRunLearnsTheLine() throws {
        let dir = try CLI.directory()
        let result = try CLI.run(["train", "--workers", "2"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        for stage in ["[1/6] Data", "[2/6] Model", "[3/6] Objective", "[4/6] Training", "[5/6] Evaluate", "[6/6] Save"] {
            #expect(result.output.contains(stage), "missing \(stage)")
        }
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("learned weight") })
        let numbers = line.split(separator: " ").compactMap { Float($0) }
        // "learned weight W (true 0.7) · bias B (true 0.3)"
        #expect(numbers.count == 2)
        #expect(abs(numbers[0] - 0.7) <= 0.01 && abs(numbers[1] - 0.3) <= 0.01, "\(line)")
        #expect(CLI.files(dir).contains("model.safetensors"))
    }

    /// The foundation's iris recipe from the command line; like the library test, the mean over
    /// five seeded splits (PyTorch on the same splits: 0.907 for seeds 0…4).
    @Test func irisReachesTheFoundationsAccuracy() throws {
        var total = 0.0
        for seed in 0..<5 {
            let dir = try CLI.directory()
            let result = try CLI.run(["train", "--data", CLI.iris, "--workers", "4", "--seed", "\(seed)", "--metrics", "m.jsonl", "--quiet"], in: dir)
            #expect(result.status == 0, "\(result.error)")
            #expect(result.output.isEmpty)
            let done = try #require(try CLI.jsonLines(dir.appendingPathComponent("m.jsonl")).last)
            total += try #require(done["test_accuracy"] as? Double)
        }
        #expect(total / 5 >= 0.90)
    }

    @Test func theMetricsFileHasOneObjectPerEvaluationWithThePromisedKeys() throws {
        let dir = try CLI.directory()
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "12", "--val-fraction", "0.1", "--metrics", "m.jsonl"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        let lines = try CLI.jsonLines(dir.appendingPathComponent("m.jsonl"))
        #expect(lines.count == 13)
        for (i, line) in lines.dropLast().enumerated() {
            #expect(line["epoch"] as? Int == i + 1)
            for key in ["step", "train_loss", "val_loss", "test_loss", "test_accuracy", "samples_per_second", "elapsed_seconds"] {
                #expect(line[key] != nil, "line \(i + 1) lacks \(key)")
            }
        }
        #expect(lines.last?["event"] as? String == "done")

        let regression = try CLI.run(["train", "--epochs", "3", "--metrics", "r.jsonl"], in: dir)
        #expect(regression.status == 0)
        let first = try CLI.jsonLines(dir.appendingPathComponent("r.jsonl"))[0]
        #expect(first["test_r2"] != nil && first["test_mae"] != nil && first["val_loss"] == nil)
    }

    @Test func theSVGPlotParsesAndHoldsEveryCurve() throws {
        let dir = try CLI.directory()
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "10", "--val-fraction", "0.1", "--plot", "curves.svg"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        let parser = XMLParser(contentsOf: dir.appendingPathComponent("curves.svg"))!
        let collector = SeriesCollector()
        parser.delegate = collector
        #expect(parser.parse(), "the SVG is not well-formed XML")
        #expect(collector.names == ["train loss", "validation loss", "test loss", "validation accuracy", "test accuracy"])
        #expect(collector.pointCounts.allSatisfy { $0 == 10 })
        #expect(collector.texts.contains("epoch"))
    }

    @Test func evalReproducesTheFinalTestMetricAndPredictWritesARowPerRow() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "30", "--metrics", "m.jsonl", "--save", "iris.safetensors"], in: dir).status == 0)
        let done = try #require(try CLI.jsonLines(dir.appendingPathComponent("m.jsonl")).last)
        let eval = try CLI.run(["eval", "iris.safetensors", "--data", CLI.iris, "--split", "test", "--json"], in: dir)
        #expect(eval.status == 0, "\(eval.error)")
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(eval.output.utf8)) as? [String: Any])
        #expect(metrics["count"] as? Int == 30)
        #expect(abs((metrics["accuracy"] as? Double ?? -1) - (done["test_accuracy"] as? Double ?? -2)) < 1e-6)
        #expect(abs((metrics["loss"] as? Double ?? -1) - (done["test_loss"] as? Double ?? -2)) < 1e-6)

        let predict = try CLI.run(["predict", "iris.safetensors", "--data", CLI.iris, "--output", "p.csv"], in: dir)
        #expect(predict.status == 0, "\(predict.error)")
        let rows = try String(contentsOf: dir.appendingPathComponent("p.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 151 && rows[0] == "species")
        #expect(Set(rows.dropFirst()).isSubset(of: ["0", "1", "2"]))

        // The target column may be absent. (The file ends its lines with "\r\n", one Character.)
        let text = try String(contentsOfFile: CLI.iris, encoding: .utf8).split(whereSeparator: \.isNewline)
            .map { $0.split(separator: ",").dropLast().joined(separator: ",") }.joined(separator: "\n")
        try text.write(to: dir.appendingPathComponent("unlabeled.csv"), atomically: true, encoding: .utf8)
        let unlabeled = try CLI.run(["predict", "iris.safetensors", "--data", "unlabeled.csv"], in: dir)
        #expect(unlabeled.status == 0, "\(unlabeled.error)")
        #expect(unlabeled.output.split(separator: "\n").count == 151)
    }

    @Test func ctrlCLeavesACheckpointThatResumesToTheUninterruptedModel() throws {
        let arguments = ["train", "--data", CLI.iris, "--epochs", "400", "--workers", "2", "--checkpoint-every", "50", "--metrics", "m.jsonl"]
        let whole = try CLI.directory()
        #expect(try CLI.run(arguments, in: whole).status == 0)

        let dir = try CLI.directory()
        let metrics = dir.appendingPathComponent("m.jsonl")
        let interrupted = try CLI.run(arguments, in: dir) {
            ((try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 20
        }
        #expect(interrupted.status == 130, "\(interrupted.output)\(interrupted.error)")
        #expect(interrupted.output.contains("checkpoint saved to checkpoints/run-0/checkpoint-"))
        #expect(!CLI.files(dir).contains("model.safetensors"))
        #expect(!(CLI.files(dir.appendingPathComponent("checkpoints/run-0"))).isEmpty)

        let resumed = try CLI.run(arguments + ["--resume"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("resuming from checkpoints/run-0/checkpoint-"))
        let events = try CLI.jsonLines(metrics).compactMap { $0["event"] as? String }
        #expect(events == ["interrupted", "resumed", "done"])
        let a = try Data(contentsOf: whole.appendingPathComponent("model.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))
        #expect(a == b, "the resumed model differs from the uninterrupted one")
    }
}

/// Collects the curves and texts of an SVG.
final class SeriesCollector: NSObject, XMLParserDelegate, @unchecked Sendable {
    var names: [String] = []
    var pointCounts: [Int] = []
    var texts: [String] = []
    private var inText = false

    func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if element == "polyline", let name = attributes["data-name"] {
            names.append(name)
            pointCounts.append(attributes["points"]?.split(separator: " ").count ?? 0)
        }
        inText = element == "text"
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts.append(string) }
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        inText = false
    }
}

/// The plot's axes read as a person would draw them.
@Suite struct PlotAxes {
    func same(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-12 } }

    @Test func ticksAreRoundStepsThatCoverTheData() {
        #expect(same(LossPlot.ticks(0.0519, 0.335), [0, 0.1, 0.2, 0.3, 0.4]))
        #expect(same(LossPlot.ticks(1, 26, integers: true), [0, 5, 10, 15, 20, 25, 30]))
        #expect(same(LossPlot.ticks(1, 3, integers: true), [1, 2, 3]))
        #expect(same(LossPlot.ticks(0.91, 0.97), [0.9, 0.92, 0.94, 0.96, 0.98]))
    }

    @Test func labelsShowTheDecimalsTheStepNeeds() {
        #expect(LossPlot.label(0.15000000000000002, step: 0.05) == "0.15")
        #expect(LossPlot.label(20, step: 5) == "20")
        #expect(LossPlot.label(-1e-17, step: 0.1) == "0.0")
    }

    @Test func theMetricPanelIsTitledByWhatItHolds() {
        #expect(LossPlot.metricTitle(["validation accuracy"], metric: "accuracy") == "Validation accuracy")
        #expect(LossPlot.metricTitle(["test R²"], metric: "R²") == "Test R²")
        #expect(LossPlot.metricTitle(["validation accuracy", "test accuracy"], metric: "accuracy") == "Accuracy: validation and test")
    }
}
