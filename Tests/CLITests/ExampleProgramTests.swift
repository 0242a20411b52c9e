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
