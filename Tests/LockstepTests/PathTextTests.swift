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
