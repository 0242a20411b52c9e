import Foundation
import Testing

/// Every ```swift example in a doc comment of the library compiles: it appears, line for line,
/// in one of the files of Tests/DocExamples (one per pillar), a target the test build compiles. An example that is
/// changed in one place and not the other fails here.
@Suite struct DocExamplesCompile {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (file:line, the example's lines) of every doc-comment example under Sources/.
    static func examples() throws -> [(String, [String])] {
        var found: [(String, [String])] = []
        let sources = root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted()
        for file in files {
            let lines = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                if lines[i].trimmingCharacters(in: .whitespaces) == "/// ```swift" {
                    var block: [String] = []
                    var j = i + 1
                    while j < lines.count, lines[j].trimmingCharacters(in: .whitespaces) != "/// ```" {
                        let text = lines[j].trimmingCharacters(in: .whitespaces)
                        block.append(String(text.dropFirst(text.hasPrefix("/// ") ? 4 : 3)))
                        j += 1
                    }
                    found.append(("\(file):\(i + 1)", block))
                    i = j
                }
                i += 1
            }
        }
        return found
    }

    @Test func everyDocExampleIsInTheCompiledExamples() throws {
        let folder = Self.root.appendingPathComponent("Tests/DocExamples")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }
        let compiled = try files.map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8).components(separatedBy: "\n") }
        #expect(files.count >= 6, "Tests/DocExamples holds \(files)")
        let examples = try Self.examples()
        #expect(examples.count >= 40, "the scan found \(examples.count) examples")
        for (place, block) in examples {
            let found = compiled.contains { lines in
                lines.indices.contains { start in
                    start + block.count <= lines.count && zip(lines[start...], block).allSatisfy { $0 == $1 }
                }
            }
            #expect(found, "the example at \(place) is not in a file of Tests/DocExamples as written:\n\(block.joined(separator: "\n"))")
        }
    }
}
