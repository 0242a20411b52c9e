// The ```swift examples of the doc comments in Data/ (pillar 1), compiled here in a context that gives
// them the names they use (`DocExampleTests` checks that each example's lines appear in this
// folder verbatim). Compiled, never run: several write files, which is the example's point.
import Foundation
import Lockstep
import LockstepBenchmarks

// Data/CSVReader.swift
func csvRowsExample(doc: ModelDocument) throws {
let (x, y) = try Dataset.readCSV(at: "new.csv", featureNames: doc.featureNames, targetName: doc.targetName,
                                 task: doc.task, classLabels: doc.classLabels)
_ = (x, y)
}

// Data/DataFingerprint.swift
func dataFingerprintExample(data: Dataset) {
let print = DataFingerprint(of: data, description: "iris.csv · test 0.2")
print.hash     // .xxh3
print.digest   // 32 hex digits
}

// Data/DataFiles.swift (read)
func readExample() throws {
let data = try Dataset.read(at: "iris.csv")                  // target: the last column
let houses = try Dataset.read(at: "houses.csv", target: "price", task: .regression)
_ = (data, houses)
}

// Data/DataFiles.swift (readRows)
func readRowsExample(doc: ModelDocument) throws {
let (x, y) = try Dataset.readRows(at: "new.npy", featureNames: doc.featureNames, targetName: doc.targetName,
                                  task: doc.task, classLabels: doc.classLabels)
_ = (x, y)
}

// Data/DataFiles.swift (fileHash)
func fileHashExample() throws {
var hash = try Dataset.fileHash(at: "iris.csv")
hash.update("target=species")
hash.hexDigest()
}

// Data/FileStamp.swift
func fileStampExample() throws {
let stamp = FileStamp(path: "iris.csv")            // before reading the file
let data = try Dataset.read(at: "iris.csv")
let hash = try Dataset.fileHash(at: "iris.csv", unchangedSince: stamp)
_ = (data, hash)
}

// Data/Dataset.swift
func datasetExample() throws {
let iris = try Dataset.readCSV(at: "iris.csv")            // target: the last column
let split = try iris.split(testFraction: 0.2, seed: 0)     // 120 train / 30 test
_ = split
}

// Data/Sharder.swift
func sharderExample() throws {
let sharder = try Sharder(rows: 150, batchSize: 32, workers: 4, seed: 0)
sharder.stepsPerEpoch                       // 5 (the last batch has 22 rows)
sharder.shard(of: 0..<32, worker: 1)        // 8..<16
}

// Data/Split.swift
func splitExample(iris: Dataset) throws {
let split = try iris.split(testFraction: 0.2, seed: 0)   // train 120, test 30
_ = split
}

// Data/Standardizer.swift
func standardizerExample(split: DataSplit) {
let scaler = Standardizer(fitting: split.train.features)
let train = scaler.transform(split.train)
let test = scaler.transform(split.test)    // the train statistics, never the test's
_ = (train, test)
}

// Data/Standardizer.swift (in place)
func standardizeInPlaceExample(data: Dataset) throws {
var split = try data.split(testFraction: 0.2, seed: 0)
let scaler = Standardizer(fitting: split.train.features)
scaler.standardize(&split.train)
scaler.standardize(&split.test)
}

// Data/Dataset+Arrays.swift (labels)
func arraysLabelsExample() throws {
let data = try Dataset(features: [[5.1, 3.5], [6.2, 2.9], [5.9, 3.0]], labels: ["setosa", "virginica", "versicolor"])
data.classLabels     // ["setosa", "versicolor", "virginica"]
}

// Data/Dataset+Arrays.swift (targets)
func arraysTargetsExample() throws {
let data = try Dataset(features: [[1], [2], [3]], targets: [1.9, 4.1, 6.0])
_ = data
}

// Data/Dataset.swift (reshapedSamples)
func reshapedSamplesExample(digits: Dataset) throws {
let images = try digits.reshapedSamples(to: [1, 8, 8])   // features [rows, 1, 8, 8]
_ = images
}

// Data/DataSource.swift
struct Windows: DataSource {             // every window of 16 values, predicting the next one
    let series: [Float]
    var count: Int { series.count - 16 }
    var sampleShape: Shape { Shape(1, 16) }  // [channels, length], for a Conv1d
    var targetShape: Shape { Shape(1) }
    var task: LearningTask { .regression }
    func gather(_ rows: UnsafeBufferPointer<Int>, features: UnsafeMutablePointer<Float>,
                targets: UnsafeMutablePointer<Float>) {
        for (i, row) in rows.enumerated() {
            for t in 0..<16 { features[i * 16 + t] = series[row + t] }
            targets[i] = series[row + 16]
        }
    }
    func fingerprint() -> DataFingerprint { DataFingerprint(digest: "…", description: "windows of 16") }
}

// Data/NPYReader.swift
func readNPYExample() throws {
let images = try Dataset.readNPY(features: "x.npy", targets: "y.npy")   // x: [N, 1, 28, 28], y: [N]
_ = images
}

// Data/TokenWindows.swift
func tokenWindowsExample() throws {
let text = try TokenWindows.readBytes(at: "corpus.txt")
let train = try TokenWindows(text, context: 64, offsets: .random(count: 300 * 32, seed: 0))
let validation = try TokenWindows(text, context: 64, offsets: .strided(64))   // non-overlapping
_ = (train, validation)
}
