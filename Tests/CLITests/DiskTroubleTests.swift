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
