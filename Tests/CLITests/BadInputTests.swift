import Foundation
import Testing

/// Bad input, as a new user would try it: a one-line `error: …` naming file, line and column
/// where it applies and exit 1 for data and model problems; swift-argument-parser's message and
/// exit 64 for usage problems. In every case no output file is created.
@Suite struct BadInputIsRefusedCleanly {
    static let outputs = ["--save", "out.safetensors", "--metrics", "m.jsonl", "--plot", "p.svg", "--checkpoint-dir", "ckpt"]

    /// (data file contents or nil for iris, extra arguments, exit status, expected stderr text with
    /// FILE standing for the data file's path).
    static let cases: [(String?, [String], Int32, String)] = [
        (nil, ["--target", "colour"], 1,
         "error: FILE:1: no column named 'colour'; the columns are sepal_length, sepal_width, petal_length, petal_width, species\n"),
        ("a,b,y\n1,2,0\n3,abc,1\n", [], 1, "error: FILE:3:2: 'abc' is not a number in column 'b'\n"),
        ("a,b,y\n1,2,0\n3,,1\n", [], 1, "error: FILE:3:2: empty cell in column 'b'\n"),
        ("", [], 1, "error: FILE: the file is empty\n"),
        ("a,b,y\n1,2,0\n3,4\n", [], 1, "error: FILE:3: 2 fields, but the header has 3\n"),
        ("a,b,y\n1,2,0\nNaN,4,1\n", [], 1, "error: FILE:3:1: 'NaN' is not a finite number in column 'a'\n"),
        (nil, ["--workers", "0"], 64, "--workers must be at least 1, got 0"),
        (nil, ["--batch-size", "3", "--workers", "8"], 64, "--batch-size 3 is smaller than --workers 8"),
        (nil, ["--test-fraction", "1.5"], 64, "--test-fraction must be in (0, 1), got 1.5"),
        (nil, ["--model", "mlp:0"], 64, "The value 'mlp:0' is invalid for '--model <model>'"),
        (nil, ["--patience", "3"], 64, "--patience needs a validation split: add --val-fraction"),
    ]

    @Test(arguments: cases.indices)
    func trainRefusesBadInput(index: Int) throws {
        let (contents, extra, status, message) = Self.cases[index]
        let dir = try CLI.directory()
        var file = CLI.iris
        if let contents {
            file = dir.appendingPathComponent("data.csv").path
            try contents.write(toFile: file, atomically: true, encoding: .utf8)
        }
        let before = CLI.files(dir)
        let result = try CLI.run(["train", "--data", file, "--epochs", "2"] + extra + Self.outputs, in: dir)
        #expect(result.status == status, "\(result.error)")
        let expected = message.replacingOccurrences(of: "FILE", with: file)
        if status == 1 { #expect(result.error == expected) } else { #expect(result.error.contains(expected), "\(result.error)") }
        #expect(CLI.files(dir) == before, "files were created")
    }

    @Test func aMissingDataFile() throws {
        let dir = try CLI.directory()
        let result = try CLI.run(["train", "--data", "missing.csv"] + Self.outputs, in: dir)
        #expect(result.status == 1)
        #expect(result.error == "error: missing.csv: no such file\n")
        #expect(CLI.files(dir).isEmpty)
    }

    @Test func evalAndPredictRefuseFilesThatAreNotModels() throws {
        let dir = try CLI.directory()
        try "just some notes, not a model at all".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let notModel = try CLI.run(["eval", "notes.txt", "--data", CLI.iris], in: dir)
        #expect(notModel.status == 1)
        #expect(notModel.error.hasPrefix("error: notes.txt: header length"), "\(notModel.error)")

        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--save", "iris.safetensors"], in: dir).status == 0)
        let model = try Data(contentsOf: dir.appendingPathComponent("iris.safetensors"))
        try model.prefix(model.count - 10).write(to: dir.appendingPathComponent("truncated.safetensors"))
        let truncated = try CLI.run(["predict", "truncated.safetensors", "--data", CLI.iris, "--output", "p.csv"], in: dir)
        #expect(truncated.status == 1)
        #expect(truncated.error.hasPrefix("error: truncated.safetensors: "), "\(truncated.error)")
        #expect(!CLI.files(dir).contains("p.csv"))

        let missing = try CLI.run(["eval", "nothing.safetensors", "--data", CLI.iris], in: dir)
        #expect(missing.error == "error: nothing.safetensors: no such file\n")
    }

    @Test func predictWithTheWrongColumns() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--save", "iris.safetensors"], in: dir).status == 0)
        try "sepal_length,sepal_width,petal_length\n5.1,3.5,1.4\n".write(to: dir.appendingPathComponent("three.csv"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["predict", "iris.safetensors", "--data", "three.csv", "--output", "p.csv"], in: dir)
        #expect(result.status == 1)
        #expect(result.error == "error: three.csv:1: no column named 'petal_width'; the model takes 4 features: sepal_length, sepal_width, petal_length, petal_width\n")
        #expect(!CLI.files(dir).contains("p.csv"))
    }

    @Test func aResumeOfAnotherRunTouchesNoFile() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--metrics", "m.jsonl"], in: dir).status == 0)
        let log = try Data(contentsOf: dir.appendingPathComponent("m.jsonl"))
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--batch-size", "16", "--metrics", "m.jsonl", "--resume"], in: dir)
        #expect(result.status == 1)
        #expect(result.error == "error: cannot resume: the checkpoint's run differs: batch size 32 ≠ 16\n")
        #expect(try Data(contentsOf: dir.appendingPathComponent("m.jsonl")) == log)
    }

    @Test func resumeWithoutACheckpoint() throws {
        let dir = try CLI.directory()
        let result = try CLI.run(["train", "--resume", "--checkpoint-dir", "none"], in: dir)
        #expect(result.status == 1)
        #expect(result.error == "error: none: no checkpoint directory to resume from\n")
    }
}
