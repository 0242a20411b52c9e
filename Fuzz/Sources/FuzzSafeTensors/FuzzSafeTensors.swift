import CSafeTensorsMutator
import FuzzSupport
import Lockstep

// SafeTensors.parse, then every tensor read as Float32 and the file written back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let file = try? SafeTensors.parse(fuzzData(start, count), name: "fuzz.safetensors") else { return 0 }
    for name in file.names { _ = try? file.tensor(name) }
    _ = try? file.serialized()
    return 0
}

@_cdecl("FuzzSafeTensors_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = lockstep_safetensors_mutator_linked()
    return runFuzzer(argc, argv)
}
