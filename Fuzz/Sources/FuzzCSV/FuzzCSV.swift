import FuzzSupport
import Lockstep

// Both CSV readers: the training one (last column or a named target, any task) and the one that
// reads rows for a trained model (iris's columns, classification and regression).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let path = fuzzFile(start, count, suffix: ".csv")
    _ = try? Dataset.readCSV(at: path)
    _ = try? Dataset.readCSV(at: path, target: "species")
    _ = try? Dataset.readCSV(at: path, task: .classification)
    _ = try? Dataset.readCSV(at: path, task: .regression)
    let features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    _ = try? Dataset.readCSV(at: path, featureNames: features, targetName: "species", task: .classification,
                             classLabels: ["setosa", "versicolor", "virginica"])
    _ = try? Dataset.readCSV(at: path, featureNames: features, targetName: "species", task: .regression, classLabels: [])
    return 0
}

@_cdecl("FuzzCSV_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv)
}
