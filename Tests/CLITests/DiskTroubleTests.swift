import Foundation
import Testing

/// Outputs on a full disk (a small tmpfs the test mounts; the tests run as root, as CI does) and
/// on a read-only one: one clear error, exit 1, and the files already there intact.
@Suite(.serialized) struct DiskTrouble {
    /// Mounts a tmpfs of `kilobytes` at `dir/disk`, holding `keep.safetensors`, filled to the brim.
    func fullDisk(_ dir: URL, kilobytes: Int = 256) throws -> URL {
        let disk = dir.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(shell("mount", "-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", disk.path) == 0, "mount needs root")
        try Data(repeating: 7, count: 2048).write(to: disk.appendingPathComponent("keep.safetensors"))
        // Fill what is left: writes fail once the disk is full.
        let filler = disk.appendingPathComponent("filler").path
        let fd = open(filler, O_WRONLY | O_CREAT, 0o644)
        let block = [UInt8](repeating: 1, count: 4096)
        while write(fd, block, block.count) > 0 {}
        close(fd)
        return disk
    }

    func unmount(_ disk: URL) { _ = shell("umount", disk.path) }

    @Test(arguments: [["--save", "disk/keep.safetensors"], ["--metrics", "disk/m.jsonl"], ["--plot", "disk/p.svg"],
                      ["--checkpoint-dir", "disk/ckpt"]])
    func aFullDiskIsOneErrorAndKeepsWhatWasThere(_ output: [String]) throws {
        let dir = try CLI.directory()
        let disk = try fullDisk(dir)
        defer { unmount(disk) }
        let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "3", "--quiet"] + output, in: dir)
        #expect(result.status == 1, "\(output): \(result.error)")
        #expect(result.error.hasPrefix("error: ") && result.error.contains("No space left on device"), "\(output): \(result.error)")
        #expect(result.error.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: disk.appendingPathComponent("keep.safetensors")) == Data(repeating: 7, count: 2048))
        #expect(!CLI.files(disk).contains { $0.contains(".tmp-") }, "a temporary file was left")
    }

    /// A file-size limit (`ulimit -f`): each write past it fails with EFBIG and is reported like a
    /// full disk (SIGXFSZ killed the process without a word, leaving temporary files, before).
    @Test func aFileSizeLimitIsOneErrorAndStopsTheRun() throws {
        let dir = try CLI.directory()
        func limited(_ kilobytes: Int, _ arguments: [String]) throws -> CLI.Result {
            try CLI.run(["-c", "ulimit -f \(kilobytes); exec \"$0\" \"$@\"", CLI.binary.path] + arguments, in: dir,
                        program: URL(fileURLWithPath: "/bin/sh"))
        }
        // A checkpoint that cannot be written stops the run at an epoch's end, not after them all.
        let run = try limited(4, ["train", "--data", CLI.iris, "--epochs", "100000", "--checkpoint-every", "10", "--quiet"])
        #expect(run.status == 1 && run.error.hasPrefix("error: a checkpoint could not be written (") && run.error.contains("File too large")
                && run.error.hasSuffix("before any checkpoint was written\n"), "\(run.error)")
        // The metrics file keeps whole lines, and its failure is the one reported.
        let metrics = try limited(1, ["train", "--data", CLI.iris, "--epochs", "500", "--metrics", "m.jsonl", "--quiet"])
        #expect(metrics.status == 1 && metrics.error == "error: m.jsonl: write failed: File too large\n", "\(metrics.error)")
        let lines = try String(contentsOf: dir.appendingPathComponent("m.jsonl"), encoding: .utf8)
        #expect(!lines.isEmpty && lines.hasSuffix("\n"))
        // An export: one error, and no temporary file left.
        #expect(try CLI.run(["train", "--data", CLI.iris, "--epochs", "2", "--save", "m.safetensors", "--quiet"], in: dir).status == 0)
        let export = try limited(1, ["export", "m.safetensors", "--onnx", "m.onnx"])
        #expect(export.status == 1 && export.error == "error: m.onnx: write failed: File too large\n", "\(export.error)")
        #expect(!CLI.files(dir).contains { $0.contains(".tmp-") }, "a temporary file was left")
    }

    @Test func aReadOnlyDiskIsRefusedBeforeTraining() throws {
        let dir = try CLI.directory()
        let disk = try fullDisk(dir)
        defer { unmount(disk) }
        try #require(shell("mount", "-o", "remount,ro", disk.path) == 0)
        for output in [["--save", "disk/m.safetensors"], ["--metrics", "disk/m.jsonl"], ["--checkpoint-dir", "disk/ckpt"]] {
            let result = try CLI.run(["train", "--data", CLI.iris, "--epochs", "3"] + output, in: dir)
            #expect(result.status == 1)
            #expect(result.error.contains("Read-only file system"), "\(output): \(result.error)")
            #expect(!result.output.contains("[4/6]"), "training started: \(result.output)")
        }
    }
}

/// Runs a command and returns its exit status.
func shell(_ arguments: String...) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}
