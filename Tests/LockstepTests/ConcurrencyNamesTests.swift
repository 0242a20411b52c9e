import Testing
import Lockstep

/// `import Lockstep` hides no name of the standard library's: Swift concurrency's `Task` works
/// beside it (Lockstep's kind of target is `LearningTask`). This file compiling is half the test.
@Suite struct LockstepHidesNoStandardName {
    @Test func swiftConcurrencyTaskWorksBesideLockstep() async throws {
        let task = Task { () -> LearningTask in .classification }
        #expect(await task.value == .classification)
        try await Task.sleep(nanoseconds: 1_000)
    }
}
