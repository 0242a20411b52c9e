import Foundation
import Testing

/// Runs that used to finish with exit 0 and a wrong answer (issue 8).
@Suite struct NoWrongAnswers {
    static let diabetes = Bundle.module.path(forResource: "diabetes", ofType: "csv", inDirectory: "Fixtures")!

    @Test func bceTrainsABinaryClassifierAndPredictThresholdsIt() throws {
        let dir = try CLI.directory()
        // Iris without virginica: setosa (0) against versicolor (1).
        let rows = try String(contentsOfFile: CLI.iris, encoding: .utf8).split(whereSeparator: \.isNewline)
        let binary = rows.filter { !$0.hasSuffix(",2") }.joined(separator: "\n") + "\n"
        try binary.write(to: dir.appendingPathComponent("two.csv"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["train", "--data", "two.csv", "--loss", "bce", "--epochs", "30", "--metrics", "m.jsonl"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("Linear(64→1)"))
        let done = try #require(try CLI.jsonLines(dir.appendingPathComponent("m.jsonl")).last)
        #expect((done["test_accuracy"] as? Double ?? 0) >= 0.95)
        let predicted = try CLI.run(["predict", "model.safetensors", "--data", "two.csv"], in: dir)
        #expect(predicted.status == 0, "\(predicted.error)")
        #expect(Set(predicted.output.split(separator: "\n").dropFirst()) == ["0", "1"])
    }

    @Test func integerLabelsAreKeptExactlyAsWritten() throws {
        let dir = try CLI.directory()
        var text = "a,b,y\n"
        for i in 0..<40 { text += "\(i % 2 == 0 ? 1 : -1).\(i),\(i % 5),\(i % 2 == 0 ? 16777216 : 16777217)\n" }
        try text.write(to: dir.appendingPathComponent("big.csv"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["train", "--data", "big.csv", "--epochs", "30"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("an integer target with 2 distinct values"), "\(result.output)")
        let predicted = try CLI.run(["predict", "model.safetensors", "--data", "big.csv"], in: dir)
        #expect(Set(predicted.output.split(separator: "\n").dropFirst()) == ["16777216", "16777217"], "\(predicted.output)")
        let evaluated = try CLI.run(["eval", "model.safetensors", "--data", "big.csv"], in: dir)
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(evaluated.output.contains("16777216 16777217"), "\(evaluated.output)")
    }

    /// The diabetes recipe (MLP 64, Adam 1e-3, batch 32, 100 epochs) over split seeds 0–4: with the
    /// target standardized by default, test R² averages about PyTorch's 0.43; raw targets gave 0.20.
    @Test func regressionTargetsAreStandardizedAndPredictionsComeBackInTheirUnits() throws {
        var total = 0.0
        let dir = try CLI.directory()
        for seed in 0..<5 {
            let result = try CLI.run(["train", "--data", Self.diabetes, "--seed", "\(seed)", "--metrics", "m\(seed).jsonl",
                                      "--save", "m\(seed).safetensors", "--quiet"], in: dir)
            #expect(result.status == 0, "\(result.error)")
            let done = try #require(try CLI.jsonLines(dir.appendingPathComponent("m\(seed).jsonl")).last)
            total += try #require(done["test_r2"] as? Double)
        }
        #expect(total / 5 >= 0.38, "mean test R² \(total / 5)")
        // Predictions are in the target's units (25…346), not standardized ones.
        let predicted = try CLI.run(["predict", "m0.safetensors", "--data", Self.diabetes], in: dir)
        let values = predicted.output.split(separator: "\n").dropFirst().compactMap { Double($0) }
        #expect(values.count == 442)
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(mean > 100 && mean < 200, "mean prediction \(mean)")
        // eval reproduces the test R² of training, in the same units.
        let evaluated = try CLI.run(["eval", "m0.safetensors", "--data", Self.diabetes, "--split", "test", "--json"], in: dir)
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.output.utf8)) as? [String: Any])
        let trained = try #require(try CLI.jsonLines(dir.appendingPathComponent("m0.jsonl")).last)
        #expect(abs((metrics["r2"] as? Double ?? 0) - (trained["test_r2"] as? Double ?? 1)) < 1e-5)
        #expect(abs((metrics["mae"] as? Double ?? 0) - (trained["test_mae"] as? Double ?? 1)) < 1e-3)
    }

    /// python/'s `predict_numpy` undoes the target's standardization and thresholds a BCE logit,
    /// as `lockstep predict` does.
    @Test func thePythonLoaderPredictsAsTheCommandDoes() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = try CLI.directory()
        let rows = try String(contentsOfFile: CLI.iris, encoding: .utf8).split(whereSeparator: \.isNewline)
        try (rows.filter { !$0.hasSuffix(",2") }.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("two.csv"), atomically: true, encoding: .utf8)
        let diabetes = Self.diabetes
        for (data, extra) in [(diabetes, [String]()), ("two.csv", ["--loss", "bce"])] {
            #expect(try CLI.run(["train", "--data", data, "--epochs", "10", "--quiet", "--save", "m.safetensors"] + extra, in: dir).status == 0)
            let command = try CLI.run(["predict", "m.safetensors", "--data", data], in: dir)
            let script = """
                import sys, numpy as np
                sys.path.insert(0, sys.argv[1])
                import lockstep_loader as l
                doc = l.read_document("m.safetensors")
                import csv
                with open(sys.argv[2]) as f:
                    r = list(csv.DictReader(f))
                x = np.array([[float(row[n]) for n in doc["feature_names"]] for row in r])
                out = l.predict_numpy("m.safetensors", x)
                print(doc["target"])
                for v in out:
                    print(v if isinstance(v, str) else repr(float(np.asarray(v).ravel()[0])))
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", script, repository.appendingPathComponent("python").path, data]
            process.currentDirectoryURL = dir
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let ours = command.output.split(separator: "\n"), theirs = output.split(separator: "\n")
            #expect(ours.count == theirs.count && ours.count > 100, "\(data): \(ours.count) vs \(theirs.count) lines")
            for (a, b) in zip(ours.dropFirst(), theirs.dropFirst()) {
                if let x = Double(a), let y = Double(b) {
                    #expect(abs(x - y) <= 1e-3 * max(1, abs(x)), "\(data): \(a) vs \(b)")
                } else {
                    #expect(a == b, "\(data): \(a) vs \(b)")
                }
            }
        }
    }

    @Test func predictIgnoresATargetColumnItDoesNotNeed() throws {
        let dir = try CLI.directory()
        let trained = try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--quiet"], in: dir)
        #expect(trained.status == 0, "\(trained.error)")
        let rows = try String(contentsOfFile: CLI.iris, encoding: .utf8).split(whereSeparator: \.isNewline)
        let unknown = [String(rows[0])] + rows.dropFirst().map { $0.split(separator: ",").dropLast().joined(separator: ",") + ",?" }
        try unknown.joined(separator: "\n").write(to: dir.appendingPathComponent("u.csv"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["predict", "model.safetensors", "--data", "u.csv"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.split(separator: "\n").count == 151)
    }

    @Test func evalAndPredictReadNPY() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "20", "--quiet"], in: dir).status == 0)
        // iris as a float32 .npy: four features, then the class.
        let rows = try String(contentsOfFile: CLI.iris, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
        let values = rows.flatMap { $0.split(separator: ",").map { Float($0)! } }
        try npy(values, rows: rows.count, columns: 5).write(to: dir.appendingPathComponent("iris.npy"))
        let evaluated = try CLI.run(["eval", "model.safetensors", "--data", "iris.npy"], in: dir)
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(evaluated.output.hasPrefix("iris.npy: 150 rows · accuracy"))
        let predicted = try CLI.run(["predict", "model.safetensors", "--data", "iris.npy"], in: dir)
        #expect(predicted.status == 0, "\(predicted.error)")
        #expect(predicted.output.split(separator: "\n").count == 151)
        // An array has no column names: a --target would silently mean the last column.
        let named = try CLI.run(["train", "--data", "iris.npy", "--target", "sepal_width", "--quiet", "--save", "n.safetensors"], in: dir)
        #expect(named.status == 1)
        #expect(named.error.contains("an .npy array has no column names (its target is the last column); --target sepal_width names a CSV column"))
    }

    @Test func theConfusionMatrixFitsItsCounts() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "20", "--quiet"], in: dir).status == 0)
        // 150 × 700 rows: counts of five and six digits.
        let rows = try String(contentsOfFile: CLI.iris, encoding: .utf8).split(whereSeparator: \.isNewline)
        let many = [String(rows[0])] + Array(repeating: rows.dropFirst().map(String.init), count: 700).joined()
        try many.joined(separator: "\n").write(to: dir.appendingPathComponent("many.csv"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["eval", "model.safetensors", "--data", "many.csv"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        let table = result.output.split(separator: "\n").dropFirst(3)
        let counts = table.map { $0.split(separator: " ").dropFirst().compactMap { Int($0) } }
        #expect(counts.map { $0.reduce(0, +) } == [35000, 35000, 35000], "\(result.output)")
    }

    /// A checkpoint whose counters were edited by hand is refused as damaged, never a trap: its
    /// state no longer matches its checksum; and in a checkpoint of before the checksums (schema
    /// version 1, none written), the edited counter itself is refused.
    @Test(arguments: [("epoch", Int.max), ("epoch", -1), ("step", Int.max), ("step_in_epoch", -1),
                      ("optimizer_step_count", Int.max), ("workers", 0), ("step_in_epoch", 999)])
    func anEditedCheckpointIsRefused(_ key: String, _ value: Int) throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--quiet"], in: dir).status == 0)
        let file = dir.appendingPathComponent("checkpoints/run-0/checkpoint-000000008.safetensors")
        let original = try Data(contentsOf: file)
        try editDocument(file, key: "lockstep_checkpoint") { $0[key] = value }
        let edited = try CLI.run(["train", "--data", CLI.iris, "--epochs", "4", "--resume-from", file.path], in: dir)
        #expect(edited.status == 1 && edited.error.hasSuffix("a damaged checkpoint: its state does not match the checksum written with it\n"),
                "\(key) = \(value): \(edited.error)")
        try original.write(to: file)
        try editDocument(file, key: "lockstep_checkpoint", dropping: ["lockstep_checkpoint_xxh3", "lockstep_tensors_xxh3"]) {
            $0[key] = value
            $0["schema_version"] = 1
        }
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "4", "--resume-from", file.path], in: dir)
        #expect(result.status == 1, "\(key) = \(value): \(result.error)")
        #expect(result.error.contains("a damaged checkpoint") && !result.error.contains("checksum"), "\(key) = \(value): \(result.error)")
        #expect(result.error.split(separator: "\n").count == 1)
    }

    @Test func predictQuotesLabelsWithCommasEvenWhenTheyStartWithANumber() throws {
        let dir = try CLI.directory()
        let rows = try String(contentsOfFile: CLI.iris, encoding: .utf8).split(whereSeparator: \.isNewline)
        let names = ["\"1,small\"", "\"2,medium\"", "\"3,big\""]
        let relabeled = [String(rows[0])] + rows.dropFirst().map { row in
            var fields = row.split(separator: ",").map(String.init)
            fields[fields.count - 1] = names[Int(fields.last!)!]
            return fields.joined(separator: ",")
        }
        try relabeled.joined(separator: "\n").write(to: dir.appendingPathComponent("n.csv"), atomically: true, encoding: .utf8)
        #expect(try CLI.run(["train", "--data", "n.csv", "--epochs", "5", "--quiet"], in: dir).status == 0)
        let predicted = try CLI.run(["predict", "model.safetensors", "--data", "n.csv"], in: dir)
        #expect(Set(predicted.output.split(separator: "\n").dropFirst().map(String.init)).isSubset(of: names), "\(predicted.output)")
    }

    /// A model file whose metadata was edited by hand is refused with one line, never a crash.
    @Test(arguments: ["out 0", "out negative", "out 2^62", "in mismatched", "dropout p 1.5", "feature names too few",
                      "mean too short", "std zero", "one class label", "a classifier called a regression", "duplicate feature names",
                      "schema version -1"])
    func anEditedModelFileIsRefused(_ name: String) throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--quiet"], in: dir).status == 0)
        let url = dir.appendingPathComponent("model.safetensors")
        try editDocument(url) { d in
            switch name {
            case "out 0": d["model"] = layers(d, 0, "out", 0)
            case "out negative": d["model"] = layers(d, 0, "out", -5)
            case "out 2^62": d["model"] = layers(d, 2, "out", 1 << 62)
            case "in mismatched": d["model"] = layers(d, 2, "in", 7)
            case "dropout p 1.5":
                var m = d["model"] as! [String: Any]
                var l = m["layers"] as! [[String: Any]]
                l.insert(["type": "dropout", "p": 1.5], at: 1)
                m["layers"] = l
                d["model"] = m
            case "feature names too few": d["feature_names"] = ["a", "b"]
            case "mean too short", "std zero":
                var s = d["standardization"] as! [String: Any]
                if name == "std zero" { s["std"] = [0.0, 1.0, 1.0, 1.0] } else { s["mean"] = [0.0] }
                d["standardization"] = s
            case "a classifier called a regression": d["task"] = "regression"
            case "duplicate feature names": d["feature_names"] = ["a", "a", "b", "c"]
            case "schema version -1": d["schema_version"] = -1
            default: d["class_labels"] = ["0"]
            }
        }
        for command in [["predict", "model.safetensors", "--data", CLI.iris], ["eval", "model.safetensors", "--data", CLI.iris]] {
            let result = try CLI.run(command, in: dir)
            #expect(result.status == 1, "\(name): \(result.error)")
            #expect(result.error.hasPrefix("error: model.safetensors: "), "\(name): \(result.error)")
            #expect(result.error.split(separator: "\n").count == 1, "\(name): \(result.error)")
        }
    }
}

/// The model document with layer `index`'s `key` set to `value`.
private func layers(_ document: [String: Any], _ index: Int, _ key: String, _ value: Int) -> [String: Any] {
    var model = document["model"] as! [String: Any]
    var layers = model["layers"] as! [[String: Any]]
    layers[index][key] = value
    model["layers"] = layers
    return model
}

/// Rewrites the JSON document under `key` ("lockstep" in a model file, "lockstep_checkpoint" in a
/// checkpoint) in a safetensors file's metadata.
func editDocument(_ url: URL, key: String = "lockstep", dropping dropped: [String] = [], _ edit: (inout [String: Any]) -> Void) throws {
    let bytes = try Data(contentsOf: url)
    let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
    var header = try #require(try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + length))) as? [String: Any])
    var metadata = try #require(header["__metadata__"] as? [String: String])
    let text = try #require(metadata[key])
    var document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    edit(&document)
    metadata[key] = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
    for name in dropped { metadata[name] = nil }
    header["__metadata__"] = metadata
    var json = try JSONSerialization.data(withJSONObject: header)
    while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
    var out = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    out.append(bytes.subdata(in: (8 + length)..<bytes.count))
    try out.write(to: url)
}

/// A float32, C-order .npy file of `values` as [rows, columns].
func npy(_ values: [Float], rows: Int, columns: Int) -> Data {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
    while (10 + header.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)])
    data.append(Data(header.utf8))
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    return data
}
