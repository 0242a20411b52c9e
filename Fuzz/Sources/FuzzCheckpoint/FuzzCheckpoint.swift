import CSafeTensorsMutator
import FuzzSupport
import Lockstep

// Checkpoint.read: safetensors + the checkpoint state JSON + parameter and optimizer buffers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let path = fuzzFile(start, count, suffix: ".safetensors")
    _ = try? Checkpoint.read(at: path)
    return 0
}

@_cdecl("FuzzCheckpoint_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = lockstep_safetensors_mutator_linked()
    return runFuzzer(argc, argv)
}
