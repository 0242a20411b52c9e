import Foundation
import Testing

/// The README's programs are the example targets' sources, so they are built with every build
/// and cannot rot.
@Suite struct ReadmeShowsTheExamples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["Examples/SixPillars/main.swift", "Examples/DataParallel/main.swift", "Examples/InYourOwnTool/main.swift",
                      "Examples/DigitsCNN/main.swift", "Examples/ByteLM/main.swift"])
    func theReadmeHoldsTheExampleVerbatim(path: String) throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
        #expect(readme.contains("```swift\n" + source + "```"), "README.md does not show \(path) as it is")
    }
}

extension ReadmeShowsTheExamples {
    @Test func theTestsCopyOfTheDigitsCNNClassesIsTheExamples() throws {
        let example = try String(contentsOf: Self.root.appendingPathComponent("Examples/DigitsCNN/main.swift"), encoding: .utf8)
        let copy = try String(contentsOf: Self.root.appendingPathComponent("Tests/LockstepTests/DigitsCNNCopy.swift"), encoding: .utf8)
        let classes = String(copy[copy.range(of: "final class ResidualBlock")!.lowerBound...])
        #expect(example.contains(classes), "Tests/LockstepTests/DigitsCNNCopy.swift no longer holds the example's classes")
    }
}
