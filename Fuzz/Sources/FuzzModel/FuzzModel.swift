import CSafeTensorsMutator
import FuzzSupport
import Lockstep

// SavedModel.load (safetensors + the metadata JSON + the state dict), then predictions on three
// rows of the width the model file says it takes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let path = fuzzFile(start, count, suffix: ".safetensors")
    guard let model = try? SavedModel.load(from: path) else { return 0 }
    let width = model.document.featureNames.count
    guard width <= 1 << 16 else { return 0 }
    let rows = Tensor((0..<(3 * width)).map { Float($0 % 7) - 3 }, shape: Shape(3, width))
    _ = try? model.predictions(for: rows)
    return 0
}

@_cdecl("FuzzModel_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = lockstep_safetensors_mutator_linked()
    return runFuzzer(argc, argv)
}
