import Foundation
import Testing

/// The defects a hostile new user found (issue 8), each as a case of the table: the command, the
/// exit status, the message, and that every file in the working directory is byte-for-byte as it
/// was (no input overwritten, no partial output, nothing deleted).
@Suite struct HostileInputLosesNothing {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var status: Int32
        var message: String
        var testDescription: String { name }
    }

    /// Every case runs in a directory holding `d.csv` (iris), `model.safetensors` (trained on it),
    /// `link.csv` → d.csv, `hard.csv` (a hard link to d.csv), `checkpoints/run-0/…` and a user's
    /// `checkpoints/checkpoint-best.safetensors`.
    static let cases: [Case] = [
        Case(name: "--save onto the data", arguments: ["train", "--data", "d.csv", "--save", "d.csv"], status: 64,
             message: "--save d.csv is the input file --data d.csv; choose another name"),
        Case(name: "--metrics onto the data through a symbolic link", arguments: ["train", "--data", "d.csv", "--metrics", "link.csv"],
             status: 64, message: "--metrics link.csv is the input file --data d.csv"),
        Case(name: "--plot onto the data through ..", arguments: ["train", "--data", "d.csv", "--plot", "checkpoints/../d.csv"],
             status: 64, message: "--plot checkpoints/../d.csv is the input file --data d.csv"),
        Case(name: "--save onto a hard link of the data", arguments: ["train", "--data", "d.csv", "--save", "hard.csv"],
             status: 64, message: "--save hard.csv is the input file --data d.csv"),
        Case(name: "two outputs in one file", arguments: ["train", "--data", "d.csv", "--metrics", "out.txt", "--plot", "out.txt"],
             status: 64, message: "--plot out.txt and --metrics out.txt are the same file"),
        Case(name: "predict --output onto its data", arguments: ["predict", "model.safetensors", "--data", "d.csv", "--output", "d.csv"],
             status: 64, message: "--output d.csv is the input file --data d.csv"),
        Case(name: "predict --output onto its model", arguments: ["predict", "model.safetensors", "--data", "d.csv", "--output", "model.safetensors"],
             status: 64, message: "--output model.safetensors is the input file the model model.safetensors"),
        Case(name: "an output in a missing directory", arguments: ["train", "--data", "d.csv", "--save", "nowhere/m.safetensors"],
             status: 1, message: "error: nowhere/m.safetensors: the directory nowhere does not exist\n"),
        Case(name: "an output that is a directory", arguments: ["train", "--data", "d.csv", "--metrics", "checkpoints"],
             status: 1, message: "error: checkpoints: is a directory, not a file\n"),
        Case(name: "BCE on three classes", arguments: ["train", "--data", "d.csv", "--loss", "bce"], status: 1,
             message: "bce trains a binary classifier: a target with two classes and a model with one output"),
        Case(name: "--keep-best val_r2 on a classification", arguments: ["train", "--data", "d.csv", "--val-fraction", "0.2", "--keep-best", "val_r2"],
             status: 1, message: "error: val_r2 needs a regression target; a classification is monitored by val_loss or val_accuracy\n"),
        Case(name: "--keep-best val_accuracy on a regression", arguments: ["train", "--val-fraction", "0.2", "--keep-best", "val_accuracy"],
             status: 1, message: "error: val_accuracy needs a classification target"),
        Case(name: "--gamma -1", arguments: ["train", "--data", "d.csv", "--gamma", "-1"], status: 64,
             message: "--gamma must be a finite positive factor, got -1.0"),
        Case(name: "--weight-decay inf", arguments: ["train", "--data", "d.csv", "--weight-decay", "inf"], status: 64,
             message: "--weight-decay must be a finite number ≥ 0, got inf"),
        Case(name: "--clip-norm inf", arguments: ["train", "--data", "d.csv", "--clip-norm", "inf"], status: 64,
             message: "--clip-norm must be a finite positive number, got inf"),
        Case(name: "--workers -1", arguments: ["train", "--data", "d.csv", "--workers", "-1"], status: 64,
             message: "--workers must be at least 1, got -1"),
        Case(name: "--epochs past any run", arguments: ["train", "--data", "d.csv", "--epochs", "9223372036854775807"], status: 64,
             message: "--epochs must be in 1…1000000"),
        Case(name: "a width that overflows", arguments: ["train", "--data", "d.csv", "--model", "mlp:9223372036854775807"], status: 1,
             message: "error: layer 0 (linear): 'out' is 9223372036854775807; it must be in 1…2147483647\n"),
        Case(name: "a model that does not fit in memory", arguments: ["train", "--data", "d.csv", "--model", "mlp:2000000000"], status: 1,
             message: "error: the model has 16000000003 parameters: 2 workers need about"),
        Case(name: "bench --seconds nan", arguments: ["bench", "--seconds", "nan"], status: 64,
             message: "--seconds must be a number of seconds in (0, 3600], got nan"),
        Case(name: "bench --seconds 1e300", arguments: ["bench", "--seconds", "1e300"], status: 64,
             message: "--seconds must be a number of seconds in (0, 3600]"),
        Case(name: "a duplicate column name", arguments: ["train", "--data", "dup.csv", "--target", "y"], status: 1,
             message: "error: dup.csv:1:3: column 'y' appears twice (columns 2 and 3); column names must be unique\n"),
        Case(name: "a semicolon-separated file", arguments: ["train", "--data", "semi.csv"], status: 1,
             message: "error: semi.csv:1: one column only: the file seems to be separated by ';', but Lockstep reads comma-separated values\n"),
        Case(name: "a one-class target", arguments: ["train", "--data", "one.csv"], status: 1,
             message: "has only one class (1): a classifier needs at least two"),
        Case(name: "--save onto a checkpoint in a run's folder",
             arguments: ["train", "--data", "d.csv", "--resume-from", "checkpoints/run-0", "--save", "checkpoints/run-0/checkpoint-000000008.safetensors"],
             status: 64, message: "is inside the run folder checkpoints/run-0, which holds the run's checkpoints"),
        Case(name: "--metrics onto a run's lock file", arguments: ["train", "--data", "d.csv", "--metrics", "checkpoints/run-0/.lock"],
             status: 64, message: "is inside the run folder"),
        Case(name: "--save /dev/stdout and --metrics -", arguments: ["train", "--data", "d.csv", "--save", "/dev/stdout", "--metrics", "-", "--quiet"],
             status: 64, message: "--metrics - and --save /dev/stdout are the same file"),
        Case(name: "--save - with the progress lines", arguments: ["train", "--data", "d.csv", "--save", "-"], status: 64,
             message: "--save - writes to standard output, where the progress lines go too: add --quiet"),
        Case(name: "a resume with fewer epochs than trained", arguments: ["train", "--data", "d.csv", "--epochs", "1", "--resume-from", "checkpoints/run-0"],
             status: 1, message: "error: cannot resume: the checkpoint has trained 2 epochs, more than the 1 asked for; ask for 2 epochs or more\n"),
        Case(name: "an output that ends in /", arguments: ["train", "--data", "d.csv", "--save", "newdir/"], status: 1,
             message: "error: newdir/: ends in '/': that names a directory, not a file\n"),
        Case(name: "a named pipe no one reads", arguments: ["train", "--data", "d.csv", "--metrics", "pipe"], status: 1,
             message: "error: pipe: a named pipe that no process is reading\n"),
        Case(name: "a named pipe as the data", arguments: ["train", "--data", "pipe"], status: 1,
             message: "error: pipe: a named pipe: a data file is read more than once, so it must be a regular file\n"),
        Case(name: "a folder as the data", arguments: ["train", "--data", "checkpoints"], status: 1,
             message: "error: checkpoints: a directory, not a data file\n"),
        Case(name: "predict given a checkpoint", arguments: ["predict", "checkpoints/run-0/checkpoint-000000008.safetensors", "--data", "d.csv"],
             status: 1, message: "checkpoint-000000008.safetensors: a run's checkpoint, not a model file: `lockstep info"),
        Case(name: "export given a checkpoint", arguments: ["export", "checkpoints/run-0/checkpoint-000000008.safetensors", "--onnx", "m.onnx"],
             status: 1, message: "a run's checkpoint, not a model file"),
        Case(name: "a checkpoint directory through a file", arguments: ["train", "--data", "d.csv", "--checkpoint-dir", "d.csv/c"],
             status: 1, message: "error: d.csv/c: cannot hold the checkpoints: a part of its path is not a folder\n"),
        Case(name: "a resume from a loop of links", arguments: ["train", "--data", "d.csv", "--resume", "--checkpoint-dir", "loop"],
             status: 1, message: "error: loop: no checkpoint directory to resume from: a loop of symbolic links\n"),
        Case(name: "an empty width", arguments: ["train", "--data", "d.csv", "--model", "mlp:1,,2"], status: 64,
             message: "The value 'mlp:1,,2' is invalid for '--model <model>'"),
        Case(name: "an empty --checkpoint-dir", arguments: ["train", "--data", "d.csv", "--checkpoint-dir", ""], status: 64,
             message: "--checkpoint-dir needs a directory name"),
        Case(name: "bench with no workload", arguments: ["bench", "--workload", ","], status: 64,
             message: "--workload needs workload names separated by commas"),
        Case(name: "bench measuring a count twice", arguments: ["bench", "--workload", "linreg", "--workers", "2,2,8"], status: 64,
             message: "--workers lists 2 twice; each count is measured once"),
        Case(name: "bench with more workers than rows", arguments: ["bench", "--workload", "mlp-mnist,linreg", "--workers", "1,65"], status: 64,
             message: "--workers 65 is more than linreg's batch of 64 rows: each worker needs a row"),
        Case(name: "bench measuring a workload twice", arguments: ["bench", "--workload", "linreg,mlp-small,linreg"], status: 64,
             message: "--workload names 'linreg' twice; each workload is measured once"),
        Case(name: "a hexadecimal cell", arguments: ["train", "--data", "hex.csv"], status: 1,
             message: "error: hex.csv:2:1: '0x10' is not a number in column 'a'\n"),
        Case(name: "features too large for 32-bit training", arguments: ["train", "--data", "huge.csv"], status: 1,
             message: "error: huge.csv: column 'a' holds values too large for 32-bit training (even standardized); rescale it\n"),
        Case(name: "resume of a run another process holds", arguments: ["train", "--data", "d.csv", "--resume"], status: 1,
             message: "in use by process"),
        Case(name: "resume with fewer epochs of a run another process holds", arguments: ["train", "--data", "d.csv", "--resume", "--epochs", "1"],
             status: 1, message: "in use by process"),
    ]

    /// The shared working directory of a case, with a lock held on run-1 by this test process
    /// (as a running `lockstep train` would), so that a `--resume` finds it in use.
    static func prepare() throws -> (URL, Int32) {
        let dir = try CLI.directory()
        let csv = dir.appendingPathComponent("d.csv").path
        try FileManager.default.copyItem(atPath: CLI.iris, toPath: csv)
        let trained = try CLI.run(["train", "--data", "d.csv", "--epochs", "2", "--quiet"], in: dir)
        #expect(trained.status == 0, "\(trained.error)")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.csv").path, withDestinationPath: "d.csv")
        try FileManager.default.linkItem(atPath: csv, toPath: dir.appendingPathComponent("hard.csv").path)
        try Data("user's file".utf8).write(to: dir.appendingPathComponent("checkpoints/checkpoint-best.safetensors"))
        try "a,y,y\n1,2,3\n".write(to: dir.appendingPathComponent("dup.csv"), atomically: true, encoding: .utf8)
        try "a;b;y\n1;2;0\n".write(to: dir.appendingPathComponent("semi.csv"), atomically: true, encoding: .utf8)
        try "a,b,y\n1,2,1\n3,4,1\n5,6,1\n7,8,1\n9,1,1\n".write(to: dir.appendingPathComponent("one.csv"), atomically: true, encoding: .utf8)
        try "a,b,y\n3.4e38,1,0\n-3.4e38,2,1\n3e38,3,0\n-3e38,4,1\n1,5,0\n2,6,1\n".write(to: dir.appendingPathComponent("huge.csv"), atomically: true, encoding: .utf8)
        try "a,b,y\n0x10,2,1\n3,4,0\n".write(to: dir.appendingPathComponent("hex.csv"), atomically: true, encoding: .utf8)
        #expect(mkfifo(dir.appendingPathComponent("pipe").path, 0o644) == 0)
        #expect(symlink("loop", dir.appendingPathComponent("loop").path) == 0)
        // A second run, still "running": its folder is locked by this process.
        let run1 = dir.appendingPathComponent("checkpoints/run-1")
        try FileManager.default.createDirectory(at: run1, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("checkpoints/run-0/checkpoint-000000008.safetensors"),
                                         to: run1.appendingPathComponent("checkpoint-000000008.safetensors"))
        let fd = open(run1.appendingPathComponent(".lock").path, O_RDWR | O_CREAT, 0o644)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        return (dir, fd)
    }

    @Test(arguments: cases)
    func isRefusedAndTouchesNothing(_ c: Case) throws {
        let (dir, lock) = try Self.prepare()
        defer { close(lock) }
        let before = CLI.snapshot(dir)
        let result = try CLI.run(c.arguments + ["--epochs", "2"].filter { _ in c.arguments[0] == "train" && !c.arguments.contains("--epochs") },
                                 in: dir)
        #expect(result.status == c.status, "\(result.output)\(result.error)")
        if c.message.hasPrefix("error: ") && c.message.hasSuffix("\n") {
            #expect(result.error == c.message)
        } else {
            #expect(result.error.contains(c.message), "\(result.error)")
        }
        #expect(result.error.split(separator: "\n").count <= (c.status == 64 ? 4 : 1), "one line: \(result.error)")
        let after = CLI.snapshot(dir)
        #expect(Set(after.keys) == Set(before.keys), "files created or removed: \(Set(after.keys).symmetricDifference(before.keys))")
        for (name, bytes) in before where after[name] != bytes { Issue.record("\(name) changed") }
    }
}

@Suite struct OutputsAndCheckpointsAreSafe {
    @Test func aDeviceGivenAsOutputIsWrittenThroughNotReplaced() throws {
        let dir = try CLI.directory()
        let node = dir.appendingPathComponent("null").path
        // A character device like /dev/null (1, 3); the tests run as root, as CI does.
        #expect(mknod(node, S_IFCHR | 0o666, 0x103) == 0, "mknod needs root")   // makedev(1, 3)
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--save", "null", "--metrics", "null"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        var st = stat()
        #expect(lstat(node, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR, "the device was replaced")
        #expect(!CLI.files(dir).contains { $0.hasPrefix(".null.tmp") })
    }

    @Test func aSymbolicLinkAsOutputKeepsTheLinkAndReplacesItsTarget() throws {
        let dir = try CLI.directory()
        try Data("old".utf8).write(to: dir.appendingPathComponent("real.safetensors"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("m.safetensors").path, withDestinationPath: "real.safetensors")
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--save", "m.safetensors", "--quiet"], in: dir).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.appendingPathComponent("m.safetensors").path) == "real.safetensors")
        #expect(try Data(contentsOf: dir.appendingPathComponent("real.safetensors")).count > 1000)
    }

    @Test func theSameCommandTwiceWritesTwoRunsAndDeletesNothing() throws {
        let dir = try CLI.directory()
        let arguments = ["train", "--data", CLI.iris, "--epochs", "30", "--checkpoint-every", "5", "--quiet"]
        #expect(try CLI.run(arguments, in: dir).status == 0)
        try Data("mine".utf8).write(to: dir.appendingPathComponent("checkpoints/checkpoint-best.safetensors"))
        let first = CLI.snapshot(dir.appendingPathComponent("checkpoints"))
        #expect(try CLI.run(arguments, in: dir).status == 0)
        let second = CLI.snapshot(dir.appendingPathComponent("checkpoints"))
        for (name, bytes) in first { #expect(second[name] == bytes, "\(name) was changed or deleted") }
        // Each run keeps its own newest three.
        #expect(CLI.files(dir.appendingPathComponent("checkpoints/run-1")).filter { $0.hasPrefix("checkpoint-") }.count == 3)
        #expect(CLI.files(dir.appendingPathComponent("checkpoints/run-0")).filter { $0.hasPrefix("checkpoint-") }.count == 3)
    }

    @Test func aFullDiskForTheMetricsIsOneErrorAndKeepsTheCheckpoints() throws {
        let dir = try CLI.directory()
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "20", "--metrics", "/dev/full"], in: dir)
        #expect(result.status == 1)
        #expect(result.error == "error: /dev/full: write failed: No space left on device\n")
        #expect(!CLI.files(dir.appendingPathComponent("checkpoints/run-0")).filter { $0.hasPrefix("checkpoint-") }.isEmpty)
    }

    @Test(arguments: [["train", "--data", "IRIS", "--epochs", "2"], ["predict", "model.safetensors", "--data", "IRIS"], ["info"]])
    func standardOutputOnAFullDiskIsOneError(_ arguments: [String]) throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--quiet"], in: dir).status == 0)
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let result = try CLI.run(arguments.map { $0 == "IRIS" ? CLI.iris : $0 }, in: dir, standardOutput: full)
        #expect(result.status == 1)
        #expect(result.error == "error: standard output: write failed: No space left on device\n")
    }

    /// One-character names for every output (Foundation's path splitting trapped on them: an
    /// illegal instruction, status 132).
    @Test func oneCharacterOutputNamesWork() throws {
        let dir = try CLI.directory()
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--quiet", "--save", "m", "--metrics", "q",
                                  "--plot", "p", "--checkpoint-dir", "c"], in: dir)
        #expect(result.status == 0, "\(result.error)")
        #expect(CLI.files(dir) == ["m", "q", "p", "c"])
        #expect(CLI.files(dir.appendingPathComponent("c")) == ["run-0"])
        #expect(try CLI.run(["predict", "m", "--data", CLI.iris], in: dir).status == 0)
    }

    /// A model description from a named pipe nobody writes to holds the run in set-up for ever
    /// (reading it waits, as `cat` would; a data file must be a regular file, but a description is
    /// read once and may come from a pipe); Ctrl-C there ends the process at once, and nothing
    /// was written.
    @Test func ctrlCDuringSetUpEndsTheRunAtOnce() throws {
        let dir = try CLI.directory()
        #expect(mkfifo(dir.appendingPathComponent("pipe.json").path, 0o600) == 0)
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["train", "--data", CLI.iris, "--model", "pipe.json", "--epochs", "2"]
        process.currentDirectoryURL = dir
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        usleep(500_000)
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message == "interrupted during set-up (SIGINT): nothing was written\n")
        #expect(CLI.files(dir) == ["pipe.json"])
    }

    @Test func sigtermCheckpointsAndExits143AndTheRunResumes() throws {
        let dir = try CLI.directory()
        let metrics = dir.appendingPathComponent("m.jsonl")
        let arguments = ["train", "--data", CLI.iris, "--epochs", "400", "--workers", "2", "--metrics", "m.jsonl"]
        let stopped = try CLI.run(arguments, in: dir, signal: SIGTERM) {
            ((try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 10
        }
        #expect(stopped.status == 143, "\(stopped.error)")
        #expect(stopped.output.contains("checkpoint saved to checkpoints/run-0/checkpoint-"))
        let resumed = try CLI.run(arguments + ["--resume"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(CLI.files(dir).contains("model.safetensors"))
    }

    /// A second Ctrl-C right after the first does not cut the checkpoint short: the run still
    /// ends with a readable checkpoint, status 130, and resumes.
    @Test func aSecondCtrlCWaitsForTheCheckpoint() throws {
        let dir = try CLI.directory()
        let metrics = dir.appendingPathComponent("m.jsonl")
        let arguments = ["train", "--data", CLI.iris, "--epochs", "400", "--workers", "2", "--metrics", "m.jsonl"]
        let stopped = try CLI.run(arguments, in: dir, signals: 2) {
            ((try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 10
        }
        #expect(stopped.status == 130, "\(stopped.error)")
        #expect(stopped.output.contains("checkpoint saved to checkpoints/run-0/checkpoint-"))
        #expect(try CLI.run(arguments + ["--resume", "--quiet"], in: dir).status == 0)
    }

    /// The temporary file a killed write left in a run's folder goes when the run is resumed;
    /// one of a live process stays.
    @Test func aResumedRunRemovesTheTemporaryFilesOfDeadWriters() throws {
        let dir = try CLI.directory()
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--quiet"], in: dir).status == 0)
        let run = dir.appendingPathComponent("checkpoints/run-0")
        let dead = ".checkpoint-000000008.safetensors.tmp-2147483646-7", live = ".checkpoint-000000008.safetensors.tmp-\(getpid())-7"
        for name in [dead, live] { try Data("half".utf8).write(to: run.appendingPathComponent(name)) }
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "3", "--resume", "--quiet"], in: dir).status == 0)
        #expect(!CLI.files(run).contains(dead))
        #expect(CLI.files(run).contains(live))
    }

    @Test func aTruncatedNewestCheckpointIsSkippedWithAWarningAndKept() throws {
        let dir = try CLI.directory()
        let arguments = ["train", "--data", CLI.iris, "--epochs", "20", "--checkpoint-every", "5"]
        #expect(try CLI.run(arguments + ["--quiet"], in: dir).status == 0)
        let run = dir.appendingPathComponent("checkpoints/run-0")
        let newest = run.appendingPathComponent("checkpoint-000000080.safetensors")
        let bytes = try Data(contentsOf: newest)
        try bytes.prefix(bytes.count / 2).write(to: newest)
        let resumed = try CLI.run(arguments + ["--resume"], in: dir)
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("warning: \(newest.path.replacingOccurrences(of: dir.path + "/", with: ""))"), "\(resumed.output)")
        #expect(resumed.output.contains("resuming from checkpoints/run-0/checkpoint-000000060.safetensors"))
        // The resumed run reached step 80 again and wrote its checkpoint whole.
        let again = try CLI.run(["train", "--data", CLI.iris, "--epochs", "20", "--checkpoint-every", "5", "--resume-from",
                                 "checkpoints/run-0/checkpoint-000000080.safetensors", "--quiet"], in: dir)
        #expect(again.status == 0, "\(again.error)")
    }
}
