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
        let started = Date()
        #expect(try CLI.run(arguments, in: whole).status == 0)
        // Kill times scale with this build's pace (a sanitizer build runs many times slower).
        let duration = Date().timeIntervalSince(started)

        let dir = try CLI.directory()
        var rng = RandomGenerator(seed: 2026)
        var kills = 0, resumes = 0
        for attempt in 0..<5 {
            let resume = !checkpoints(in: dir).isEmpty
            if resume { resumes += 1 }
            // Four kills at seeded random moments, each at least 10–25 % of a whole run's time
            // after the start; the fifth attempt runs to the end.
            let delay = duration * (0.1 + Double(rng.next() % 1000) / 1000 * 0.15)
            let launched = Date()
            // Each killed attempt first writes a checkpoint of its own (so every resume moves on),
            // then dies at its random moment.
            let before = checkpoints(in: dir).last
            let result = try CLI.run(arguments + (resume ? ["--resume"] : []), in: dir, signal: SIGKILL,
                                     interrupt: attempt < 4 ? {
                                         Date().timeIntervalSince(launched) >= delay && self.checkpoints(in: dir).last != before
                                     } : nil)
            if result.status == 0 { break }
            #expect(result.status == SIGKILL, "status \(result.status): \(result.error)")
            kills += 1
            for file in checkpoints(in: dir) {
                #expect(throws: Never.self, "unreadable after a kill: \(file)") { _ = try Checkpoint.read(at: file) }
            }
        }
        #expect(resumes >= 2, "only \(resumes) attempts found a checkpoint to resume from")
        #expect(kills >= 3, "the run finished before it was killed often enough (\(kills) kills)")
        let a = try Data(contentsOf: whole.appendingPathComponent("model.safetensors"))
        let b = try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))
        #expect(a == b, "after \(kills) kills the model differs from the uninterrupted one")
    }

    private func checkpoints(in dir: URL) -> [String] {
        let root = dir.appendingPathComponent("checkpoints").path
        // Oldest first, across runs: the last is the newest.
        return RunDirectory.runs(in: root).reversed().flatMap { Checkpoint.files(in: $0) }
    }
}
