import Foundation
import Testing

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
