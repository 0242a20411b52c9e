import Foundation
import Lockstep
import Testing

/// SIGKILL at seeded random moments, several times, resuming each time: the final model is
/// bit-identical to the run that was never interrupted, and no checkpoint on disk was ever
/// unreadable (each is written to a temporary name, flushed and renamed).
@Suite struct KillAndResume {
    @Test func killedAgainAndAgainTheRunEndsWithTheUninterruptedModel() throws {
        let arguments = ["train", "--data", CLI.iris, "--epochs", "1500", "--workers", "2", "--checkpoint-every", "25", "--quiet"]
        let whole = try CLI.directory()
        #expect(try CLI.run(arguments, in: whole).status == 0)

        let dir = try CLI.directory()
        var rng = RandomGenerator(seed: 2026)
        var kills = 0, attempts = 0
        while !CLI.files(dir).contains("model.safetensors") && attempts < 30 {
            attempts += 1
            let resume = !checkpoints(in: dir).isEmpty
            let delay = 0.15 + Double(rng.next() % 1000) / 1000 * 0.5
            let started = Date()
            let result = try CLI.run(arguments + (resume ? ["--resume"] : []), in: dir, signal: SIGKILL) {
                Date().timeIntervalSince(started) >= delay
            }
            if result.status == 0 { break }
            #expect(result.status == 9 || result.status == SIGKILL, "status \(result.status): \(result.error)")
            kills += 1
            for file in checkpoints(in: dir) {
                #expect(throws: Never.self, "unreadable after a kill: \(file)") { _ = try Checkpoint.read(at: file) }
            }
        }
        #expect(kills >= 3, "the run finished before it was killed often enough (\(kills) kills)")
        let a = try Data(contentsOf: whole.appendingPathComponent("model.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))
        #expect(a == b, "after \(kills) kills the model differs from the uninterrupted one")
    }

    private func checkpoints(in dir: URL) -> [String] {
        let root = dir.appendingPathComponent("checkpoints").path
        return RunDirectory.runs(in: root).flatMap { Checkpoint.files(in: $0) }
    }
}
