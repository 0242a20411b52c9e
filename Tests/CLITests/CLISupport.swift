import Foundation
import Testing

/// Runs the built `lockstep` binary, as a user would.
struct CLI {
    /// The binary beside this test bundle in the build folder.
    static let binary = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("lockstep")
    static let iris = Bundle.module.path(forResource: "iris", ofType: "csv", inDirectory: "Fixtures")!

    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs `lockstep ARGS` (or another `program` of the package) in `directory`; `interrupt` is polled and, once it returns true, the
    /// process gets `signal` (SIGINT by default). `standardOutput` replaces the captured pipe
    /// (e.g. /dev/full).
    @discardableResult
    static func run(_ arguments: [String], in directory: URL, program: URL = binary, signal: Int32 = SIGINT, signals: Int = 1,
                    standardOutput: FileHandle? = nil, interrupt: (() -> Bool)? = nil) throws -> Result {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = standardOutput ?? out
        process.standardError = err
        // Each pipe is read to its end on a thread of its own (a readability handler can still
        // be delivering its last chunk after the process is reaped, and that chunk was lost).
        let collected = Collected()
        let readers = DispatchGroup()
        func drain(_ pipe: Pipe, _ store: @escaping @Sendable (Data) -> Void) {
            readers.enter()
            Thread { store(pipe.fileHandleForReading.readDataToEndOfFile()); readers.leave() }.start()
        }
        if standardOutput == nil { drain(out) { collected.append(output: $0) } }
        drain(err) { collected.append(error: $0) }
        try process.run()
        if let interrupt {
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && !interrupt() && Date() < deadline { usleep(20_000) }
            for k in 0..<signals where process.isRunning {
                if k > 0 { usleep(2_000) }
                kill(process.processIdentifier, signal)
            }
        }
        process.waitUntilExit()
        // Close this process's copies of the write ends, so that the readers see the end.
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        readers.wait()
        return Result(status: process.terminationStatus, output: collected.output, error: collected.error)
    }

    /// The folder that holds every test's working directory in this test process, removed when
    /// the process exits (each test's own used to stay in /tmp, thousands of them a run).
    static let scratchRootPath = FileManager.default.temporaryDirectory.appendingPathComponent("lockstep-cli-tests-\(getpid())").path
    private static let scratchRoot: URL = {
        atexit { try? FileManager.default.removeItem(atPath: CLI.scratchRootPath) }
        return URL(fileURLWithPath: scratchRootPath)
    }()

    /// A fresh empty working directory.
    static func directory() throws -> URL {
        let url = scratchRoot.appendingPathComponent("lockstep-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The JSON objects of a JSON Lines file.
    static func jsonLines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Every file under `directory` with its bytes (folders end in "/"): compared before and after
    /// a command to show that it changed nothing.
    static func snapshot(_ directory: URL) -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        while let name = enumerator?.nextObject() as? String {
            let path = directory.appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            var st = stat()
            if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO {
                result[name] = Data("fifo".utf8)   // reading it would wait for a writer
            } else if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[name] = FileManager.default.contents(atPath: path)
            } else {
                result[name + "/"] = Data()
            }
        }
        return result
    }

    static func files(_ directory: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func append(output data: Data) { lock.withLock { out.append(data) } }
    func append(error data: Data) { lock.withLock { err.append(data) } }
    var output: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var error: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
}
