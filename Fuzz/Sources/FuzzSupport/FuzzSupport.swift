import Foundation
@_exported import CFuzzDriver

/// The fuzz input as `Data`.
public func fuzzData(_ start: UnsafeRawPointer, _ count: Int) -> Data {
    Data(bytes: start, count: count)
}

/// Writes the fuzz input to this process's scratch file (for readers that take a path) and returns
/// its path. One file per process, rewritten on each input.
public func fuzzFile(_ start: UnsafeRawPointer, _ count: Int, suffix: String) -> String {
    let path = NSTemporaryDirectory() + "/lockstep-fuzz-\(getpid())\(suffix)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    var written = 0
    while written < count {
        let n = write(fd, start + written, count - written)
        precondition(n > 0, "cannot write \(path)")
        written += n
    }
    close(fd)
    return path
}

/// The fuzzer's entry point. SwiftPM links each executable with `main` aliased to `<Module>_main`
/// (to make executables testable), which `-parse-as-library` leaves undefined and keeps libFuzzer's
/// `main` out; each fuzzer defines `<Module>_main` with `@_cdecl` and calls this.
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    lockstep_fuzz_main(argc, argv)
}
