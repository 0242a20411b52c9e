import Foundation
import Testing
@testable import Lockstep

@Suite struct CSVReaderSpecification {
    @Test func readsIrisWithTextFreeNumericClasses() throws {
        let iris = try Dataset.readCSV(at: fixture("iris.csv"))
        #expect(iris.count == 150 && iris.featureCount == 4)
        #expect(iris.featureNames == ["sepal_length", "sepal_width", "petal_length", "petal_width"])
        #expect(iris.targetName == "species")
        #expect(iris.task == .classification)
        #expect(iris.classLabels == ["0", "1", "2"])
        #expect(iris.features[0, 0] == 5.1)
    }

    @Test func readsTextLabelsAsSortedClasses() throws {
        let path = try temporaryFile("flowers.csv", "a,b,kind\n1,2,virginica\n3,4,setosa\n5,6,virginica\n")
        let d = try Dataset.readCSV(at: path)
        #expect(d.task == .classification)
        #expect(d.classLabels == ["setosa", "virginica"])
        #expect(d.targets.scalars == [1, 0, 1])
    }

    @Test func choosesTheTargetColumnByName() throws {
        let path = try temporaryFile("t.csv", "y,a,b\n1.5,2,3\n2.5,5,6\n0.25,1,1\n")
        let d = try Dataset.readCSV(at: path, target: "y", task: .regression)
        #expect(d.featureNames == ["a", "b"])
        #expect(d.targets.shape == Shape(3, 1))
        #expect(d.targets.scalars == [1.5, 2.5, 0.25])
        #expect(d.features.scalars == [2, 3, 5, 6, 1, 1])
    }

    @Test func infersTheTask() throws {
        let integer = try temporaryFile("i.csv", "a,y\n1,0\n2,1\n3,2\n")
        #expect(try Dataset.readCSV(at: integer).task == .classification)
        let real = try temporaryFile("r.csv", "a,y\n1,0.5\n2,1\n3,2\n")
        #expect(try Dataset.readCSV(at: real).task == .regression)
        let many = try temporaryFile("m.csv", "a,y\n" + (0..<30).map { "\($0),\($0)" }.joined(separator: "\n"))
        #expect(try Dataset.readCSV(at: many).task == .regression)
    }

    @Test func quotedFieldsAndWindowsLineEnds() throws {
        let path = try temporaryFile("q.csv", "\"a, first\",b,y\r\n\"1\", 2 ,\"x, y\"\r\n3,4,z\r\n")
        let d = try Dataset.readCSV(at: path)
        #expect(d.featureNames == ["a, first", "b"])
        #expect(d.classLabels == ["x, y", "z"])
        #expect(d.features.scalars == [1, 2, 3, 4])
    }

    /// Each bad file and the exact one-line message that names file, line and column.
    @Test(arguments: [
        ("a,b,y\n1,,0\n", ":2:2: empty cell in column 'b'"),
        ("a,b,y\n1,x,0\n", ":2:2: 'x' is not a number in column 'b'"),
        ("a,b,y\n1,2,0\n1,2\n", ":3: 2 fields, but the header has 3"),
        ("a,b,y\n1,nan,0\n", ":2:2: 'nan' is not a finite number in column 'b'"),
        ("a,b,y\n1,inf,0\n", ":2:2: 'inf' is not a finite number in column 'b'"),
        ("a,b,y\n1,2,\n", ":2:3: empty cell in column 'y'"),
        ("", ": the file is empty"),
        ("a,b,y\n", ": no data rows after the header"),
        ("a,b,y\n\"1,2,0\n", ":2:1: unterminated quoted field: a closing '\"' is missing (a quoted field cannot span lines)"),
    ])
    func badFilesAreRejectedWithTheirLocation(text: String, message: String) throws {
        let path = try temporaryFile("bad.csv", text)
        #expect { try Dataset.readCSV(at: path) } throws: { error in
            "\(error)" == path + message
        }
    }

    @Test func aMissingColumnListsTheColumns() throws {
        let path = try temporaryFile("c.csv", "a,b,y\n1,2,0\n")
        #expect { try Dataset.readCSV(at: path, target: "species") } throws: { error in
            "\(error)" == path + ":1: no column named 'species'; the columns are a, b, y"
        }
    }

    @Test func aMissingFile() {
        #expect { try Dataset.readCSV(at: "/nonexistent/data.csv") } throws: { error in
            "\(error)" == "/nonexistent/data.csv: no such file"
        }
    }

    @Test func textInARegressionTarget() throws {
        let path = try temporaryFile("r.csv", "a,y\n1,0.5\n2,high\n")
        #expect { try Dataset.readCSV(at: path, task: .regression) } throws: { error in
            "\(error)" == path + ":3:2: 'high' is not a number, but the task is regression"
        }
    }
}

@Suite struct NPYReaderSpecification {
    /// The bytes of an .npy v1.0 file holding `values` as dtype `descr`.
    func npy(_ descr: String, shape: String, payload: [UInt8]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8) + payload
        return Data(bytes)
    }

    func littleEndian(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    @Test func readsFloat32AndFloat64() throws {
        let f4 = try NPY.parse(npy("<f4", shape: "(2, 3)", payload: littleEndian([1, 2, 3, 4, 5, 6])), name: "a.npy")
        #expect(f4.shape == Shape(2, 3) && f4.scalars == [1, 2, 3, 4, 5, 6])
        let doubles: [Double] = [0.5, -1.25]
        let payload = doubles.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let f8 = try NPY.parse(npy("<f8", shape: "(1, 2)", payload: payload), name: "b.npy")
        #expect(f8.scalars == [0.5, -1.25])
    }

    @Test func arraysKeepTheirShapeAndIntegersReadExactly() throws {
        let images = try NPY.parse(npy("<f4", shape: "(2, 1, 2, 3)", payload: littleEndian((0..<12).map(Float.init))), name: "x.npy")
        #expect(images.shape == Shape(2, 1, 2, 3) && images.scalars == (0..<12).map(Float.init))
        let bytes = try NPY.parse(npy("|u1", shape: "(3,)", payload: [0, 7, 255]), name: "y.npy")
        #expect(bytes.shape == Shape(3) && bytes.scalars == [0, 7, 255])
        let longs: [Int64] = [-3, 16_777_216]
        let int64 = try NPY.parse(npy("<i8", shape: "(2,)", payload: longs.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }),
                                  name: "z.npy")
        #expect(int64.scalars == [-3, 16_777_216])
        let beyond: [Int64] = [16_777_217]
        #expect { try NPY.parse(npy("<i8", shape: "(1,)", payload: beyond.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }),
                                name: "z.npy") } throws: { "\($0)" == "z.npy: element 0 is an integer beyond 2^24, which a Float cannot hold exactly" }
    }

    @Test func samplesOfAnyShapeFromTwoArrays() throws {
        let dir = try temporaryDirectory()
        let x = dir.appendingPathComponent("x.npy"), y = dir.appendingPathComponent("y.npy")
        try npy("<f4", shape: "(4, 1, 2, 2)", payload: littleEndian((0..<16).map(Float.init))).write(to: x)
        let labels: [Int32] = [3, 1, 3, 40]
        try npy("<i4", shape: "(4,)", payload: labels.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }).write(to: y)
        let data = try Dataset.readNPY(features: x.path, targets: y.path)
        #expect(data.features.shape == Shape(4, 1, 2, 2) && data.sampleShape == Shape(1, 2, 2))
        #expect(data.task == .classification && data.classLabels == ["1", "3", "40"] && data.targets.scalars == [1, 0, 1, 2])
        try npy("<f4", shape: "(3,)", payload: littleEndian([1, 2, 3])).write(to: y)
        #expect { try Dataset.readNPY(features: x.path, targets: y.path) } throws: {
            "\($0)".hasSuffix("y.npy: shape [3] does not give one target row per sample of \(x.path) (4 samples)")
        }
        #expect { try Dataset.readNPY(at: x.path) } throws: { "\($0)".contains("is not a table") }
    }

    @Test(arguments: [
        (">i4", "(2, 3)", 24, "a.npy: dtype '>i4' is not supported (float32, float64 or integers, little-endian)"),
        ("<c8", "(2, 3)", 48, "a.npy: dtype '<c8' is not supported (float32, float64 or integers, little-endian)"),
        ("<f4", "(2, 3)", 20, "a.npy: data holds 20 bytes, shape (2, 3) needs 24"),
        ("<f4", "(1, 1, 1, 1, 6)", 24, "a.npy: shape (1, 1, 1, 1, 6) is not an array of 1 to 4 dimensions"),
    ])
    func badArraysAreRejected(descr: String, shape: String, bytes: Int, message: String) {
        #expect { try NPY.parse(npy(descr, shape: shape, payload: Array(repeating: 0, count: bytes)), name: "a.npy") } throws: {
            "\($0)" == message
        }
    }

    @Test func notAnNPYFile() {
        #expect { try NPY.parse(Data("hello world".utf8), name: "x.npy") } throws: { "\($0)" == "x.npy: not an .npy file (bad magic)" }
    }

    @Test func aTableWithItsTargetInTheLastColumn() throws {
        let url = try temporaryDirectory().appendingPathComponent("t.npy")
        try npy("<f4", shape: "(3, 2)", payload: littleEndian([0.1, 1, 0.2, 0, 0.3, 1])).write(to: url)
        let d = try Dataset.readNPY(at: url.path)
        #expect(d.task == .classification && d.classLabels == ["0", "1"])
        #expect(d.features.scalars == [0.1, 0.2, 0.3])
    }
}

@Suite struct PreparingData {
    @Test func builtinsAreDeterministicInTheirSeed() {
        #expect(Dataset.linear(seed: 1).features == Dataset.linear(seed: 1).features)
        #expect(Dataset.linear(seed: 1).features != Dataset.linear(seed: 2).features)
        let spirals = Dataset.builtin("spirals")!
        #expect(spirals.count == 300 && spirals.classLabels.count == 3)
        #expect(Dataset.builtin("blobs")!.task == .classification)
        #expect(Dataset.builtin("nope") == nil)
    }

    @Test func aSplitIsASeededPartition() throws {
        let data = Dataset.linear(count: 100, seed: 0)
        let split = try data.split(testFraction: 0.2, validationFraction: 0.1, seed: 3)
        #expect(split.train.count == 70 && split.validation?.count == 10 && split.test.count == 20)
        let all = (split.train.features.scalars + split.validation!.features.scalars + split.test.features.scalars).sorted()
        #expect(all == data.features.scalars.sorted())
        #expect(try data.split(testFraction: 0.2, seed: 3).test.features == split.test.features)
        #expect(try data.split(testFraction: 0.2, seed: 4).test.features != split.test.features)
    }

    @Test func impossibleFractionsAreRefused() {
        let data = Dataset.linear(count: 10)
        #expect(throws: DataError.self) { try data.split(testFraction: 1.5, seed: 0) }
        #expect(throws: DataError.self) { try data.split(testFraction: 0.6, validationFraction: 0.5, seed: 0) }
    }

    @Test func theStandardizerUsesTrainStatisticsOnly() {
        let train = Tensor([[1, 10], [3, 10]]), test = Tensor([[5, 12]])
        let s = Standardizer(fitting: train)
        #expect(s.mean == [2, 10] && s.std == [1, 1])   // a constant column keeps std 1
        #expect(s.transform(train).scalars == [-1, 0, 1, 0])
        #expect(s.transform(test).scalars == [3, 2])
    }
}

@Suite struct SharderSpecification {
    @Test func shardsAreContiguousAndDifferByAtMostOneRow() throws {
        let sharder = try Sharder(rows: 150, batchSize: 32, workers: 3, seed: 0)
        #expect(sharder.stepsPerEpoch == 5)
        let shards = (0..<3).map { sharder.shard(of: 0..<32, worker: $0) }
        #expect(shards == [0..<11, 11..<22, 22..<32])
        #expect(sharder.batch(step: 4) == 128..<150)
    }

    @Test func aShortLastBatchLeavesSomeShardsEmpty() throws {
        let sharder = try Sharder(rows: 10, batchSize: 8, workers: 4, seed: 0)
        let last = sharder.batch(step: 1)
        #expect(last == 8..<10)
        #expect((0..<4).map { sharder.shard(of: last, worker: $0).count } == [1, 1, 0, 0])
        #expect(try Sharder(rows: 10, batchSize: 8, workers: 4, dropLast: true, seed: 0).stepsPerEpoch == 1)
    }

    @Test func everyEpochIsAPermutationSeededByItsNumber() throws {
        let sharder = try Sharder(rows: 50, batchSize: 10, workers: 2, seed: 9)
        var a = [Int](repeating: 0, count: 50), b = a, c = a
        sharder.order(epoch: 0, into: &a)
        sharder.order(epoch: 0, into: &b)
        sharder.order(epoch: 1, into: &c)
        #expect(a == b && a != c && a.sorted() == Array(0..<50))
        // The order is the shuffle of all indices by the epoch's generator (shuffled as 32-bit
        // indices, which draw alike).
        var wide = Array(0..<50), rng = RandomGenerator(seed: 9, 0x5EED_0F_E90C, 0)
        rng.shuffle(&wide)
        #expect(a == wide)
    }

    @Test func aBatchSmallerThanTheWorkerCountIsAnError() {
        #expect { try Sharder(rows: 100, batchSize: 3, workers: 8, seed: 0) } throws: {
            "\($0)" == "batch size 3 is smaller than the worker count 8: every worker needs at least one row"
        }
    }
}
