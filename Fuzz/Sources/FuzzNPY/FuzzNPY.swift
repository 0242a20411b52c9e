import FuzzSupport
import Lockstep

// NPY.parse on the bytes; when they parse, Dataset.readNPY on the same bytes as a file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard (try? NPY.parse(fuzzData(start, count), name: "fuzz.npy")) != nil else { return 0 }
    let path = fuzzFile(start, count, suffix: ".npy")
    _ = try? Dataset.readNPY(at: path)
    _ = try? Dataset.readNPY(at: path, task: .classification)
    _ = try? Dataset.readNPY(at: path, task: .regression)
    return 0
}

@_cdecl("FuzzNPY_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv)
}
