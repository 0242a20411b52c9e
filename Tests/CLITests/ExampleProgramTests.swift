import Foundation
import Testing
import Lockstep

/// The README's "In your own tool" program runs as a tool author would run it.
@Suite struct InYourOwnToolRuns {
    @Test func itTrainsStopsEarlyAndPredictsFromTheSavedSnapshot() throws {
        let program = CLI.binary.deletingLastPathComponent().appendingPathComponent("InYourOwnTool")
        let result = try CLI.run([CLI.iris], in: try CLI.directory(), program: program)
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(result.output)")
        #expect(lines.first?.hasPrefix("stopped early: epoch ") == true, "\(result.output)")
        let accuracy = lines.last.flatMap { $0.split(separator: " ").dropFirst(2).first }?.split(separator: "/").compactMap { Int($0) }
        #expect(accuracy?.count == 2 && accuracy![1] == 30 && accuracy![0] >= 25, "\(result.output)")
    }
}

/// The README's "model of your own" program: a residual CNN with batch norm on 4 workers.
@Suite struct DigitsCNNRuns {
    @Test func itLearnsTheDigitsAndReloadsItsFileByName() throws {
        let program = CLI.binary.deletingLastPathComponent().appendingPathComponent("DigitsCNN")
        let directory = try CLI.directory()
        let result = try CLI.run([ArchitecturesFromFiles.digits], in: directory, program: program)
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].hasPrefix("epoch 15: train loss "), "\(result.output)")
        let accuracies = lines.compactMap { $0.split(separator: " ").last.flatMap { Float($0) } }
        #expect(accuracies.count == 2 && accuracies[0] >= 0.95 && accuracies[0] == accuracies[1], "\(result.output)")
        let file = try SafeTensors.read(at: directory.appendingPathComponent("digits-cnn.safetensors").path)
        #expect(file["block.bn2.running_var"]?.shape == [32] && file["bn1.num_batches_tracked"]?.dtype == .i64)
    }
}

/// The README's byte-level language model: trains, reports its curve, saves a model that loads
/// back, and refuses what it cannot do before it trains.
@Suite struct ByteLMRuns {
    static let text = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LockstepTests/Fixtures/genesis-exodus.txt").path
    static let program = CLI.binary.deletingLastPathComponent().appendingPathComponent("ByteLM")

    @Test func itTrainsReportsEveryTenStepsSavesAndTheFileLoadsBack() throws {
        let directory = try CLI.directory()
        let result = try CLI.run([Self.text, "--steps", "20", "--workers", "2", "--seed", "3", "--sample", "40"],
                                 in: directory, program: Self.program)
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count >= 5 && lines[0].hasPrefix("step 10 loss ") && lines[1].hasPrefix("step 20 loss "), "\(result.output)")
        let losses = lines.prefix(3).compactMap { $0.split(separator: " ").last.flatMap { Float($0) } }
        #expect(losses.count == 3 && losses[1] < losses[0] && losses.allSatisfy { $0 > 0 && $0 < 6 }, "\(result.output)")
        #expect(lines[2].hasPrefix("val loss ") && lines[3] == "sample:", "\(result.output)")
        let file = try SafeTensors.read(at: directory.appendingPathComponent("byte-lm.safetensors").path)
        #expect(file["blocks.1.attn.in_proj_weight"]?.shape == [384, 128] && file["pos.weight"]?.shape == [64, 128])

        // Loaded back and not trained further, it has the same validation loss; it generates.
        let again = try CLI.run([Self.text, "--steps", "0", "--load", "byte-lm.safetensors", "--sample", "40"],
                                in: directory, program: Self.program)
        #expect(again.status == 0, "\(again.error)")
        #expect(again.output.split(separator: "\n").first.map(String.init) == lines[2], "\(again.output)")
        #expect(again.output.contains("sample:\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["byte-lm.safetensors"])   // --steps 0 saves nothing
    }

    @Test(arguments: [
        (["--steps", "ten"], "error: --steps takes a whole number in 0...1000000, got ten"),
        (["--steps", "9223372036854775807"], "error: --steps takes a whole number in 0...1000000"),
        (["--workers", "0"], "error: --workers takes a whole number in 1...32, got 0"),
        (["--rate", "1"], "error: --rate: unknown option or missing value"),
        (["--save", "-"], "standard output carries the losses"),
        (["--save", "INPUT"], "is the input file FILE"),
        (["--save", "no/such/dir/m.safetensors"], "does not exist"),
    ])
    func badArgumentsAreOneLineAndTouchNothing(extra: [String], message: String) throws {
        let directory = try CLI.directory()
        let input = directory.appendingPathComponent("text.txt")
        try FileManager.default.copyItem(atPath: Self.text, toPath: input.path)
        let result = try CLI.run(["text.txt"] + extra.map { $0 == "INPUT" ? "text.txt" : $0 }, in: directory, program: Self.program)
        #expect(result.status != 0 && result.error.contains(message) && result.error.split(separator: "\n").count == 1, "\(result.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["text.txt"])
        #expect(FileManager.default.contentsEqual(atPath: input.path, andPath: Self.text))
    }

    @Test func aMissingFileIsNamed() throws {
        let result = try CLI.run(["missing.txt"], in: try CLI.directory(), program: Self.program)
        #expect(result.status == 1 && result.error == "error: missing.txt: no such file\n", "\(result.error)")
    }

    @Test func aFileTooShortForBothSplitsSaysHowLongItMustBe() throws {
        let directory = try CLI.directory()
        try Data(repeating: 65, count: 640).write(to: directory.appendingPathComponent("short.txt"))
        let result = try CLI.run(["short.txt"], in: directory, program: Self.program)
        #expect(result.status != 0 && result.error == "error: short.txt: 640 bytes; ByteLM needs 650 or more (10 % of them validate on windows of 65)\n",
                "\(result.error)")
    }
}
