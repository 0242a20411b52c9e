import Foundation
import Testing
@testable import Lockstep

/// A path's folder and last component, for every shape of path a user passes (Foundation's
/// `deletingLastPathComponent` trapped on one-character paths).
@Suite struct PathTextSplitsPaths {
    @Test(arguments: [
        ("m", "", "m"), ("ab", "", "ab"), ("", "", ""), ("/", "/", "/"), ("/c", "/", "c"),
        ("a/b", "a", "b"), ("a/b/", "a", "b"), ("a//b", "a", "b"), ("a/b//", "a", "b"),
        ("./m", ".", "m"), ("../m", "..", "m"), ("/tmp/runs/run-0/checkpoint-1.safetensors", "/tmp/runs/run-0", "checkpoint-1.safetensors"),
        ("//x", "/", "x"), ("é/ü", "é", "ü"),
    ])
    func folderAndLastComponent(_ path: String, _ parent: String, _ last: String) {
        #expect(PathText.parent(of: path) == parent)
        #expect(PathText.lastComponent(of: path) == last)
    }

    /// A name inside a folder typed with or without its slash: one slash between them.
    @Test(arguments: [("runs", "runs/c"), ("runs/", "runs/c"), ("runs//", "runs/c"), ("/", "/c"), ("", "c"), ("./", "./c"), ("é ü", "é ü/c")])
    func aNameInAFolder(_ folder: String, _ joined: String) {
        #expect(PathText.joined(folder, "c") == joined)
    }
}

/// An error line stays one line whatever the name: control characters are escaped.
@Suite struct PathsInErrorLines {
    @Test func aNewlineInANameIsShownEscaped() {
        #expect(PathText.printable("plain é.csv") == "plain é.csv")
        #expect(PathText.printable("a\nb\tc\u{7}") == "a\\nb\\tc\\u{7}")
        #expect("\(FileError(path: "no\nsuch", "no such file"))" == "no\\nsuch: no such file")
        #expect("\(DataError(file: "d\r.csv", line: 2, "bad"))" == "d\\r.csv:2: bad")
        #expect(MissingFile.reason("") == "an empty file name")
        #expect("\(FileError(path: "", "an empty file name"))" == "'': an empty file name")
    }
}

/// A path that leads nowhere is named for what it is, not always "no such file".
@Suite struct WhyAFileIsMissing {
    @Test func eachWayAPathLeadsNowhereHasItsWords() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/file", loop = folder + "/loop", other = folder + "/other", dangling = folder + "/dangling"
        #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
        #expect(symlink("other", loop) == 0 && symlink("loop", other) == 0 && symlink("gone", dangling) == 0)
        #expect(MissingFile.reason(file) == nil)
        #expect(MissingFile.reason(folder) == nil)
        #expect(MissingFile.reason(folder + "/gone") == "no such file")
        #expect(MissingFile.reason(folder + "/gone", absentIsFine: true) == nil)
        #expect(MissingFile.reason(dangling, absentIsFine: true) == "a link to a missing file")
        #expect(MissingFile.reason(loop) == "a loop of symbolic links")
        #expect(MissingFile.reason(dangling) == "a link to a missing file")
        #expect(MissingFile.reason(file + "/inside") == "a part of its path is not a folder")
        #expect(MissingFile.unlistable(folder) == nil)
        #expect(MissingFile.unlistable(file) == "cannot list its files: Not a directory")
    }
}
