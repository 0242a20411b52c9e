import Foundation
import Testing
@testable import Lockstep

@Suite struct SHA256MatchesTheStandard {
    @Test func knownVectors() {
        var empty = SHA256()
        empty.update([])
        #expect(empty.hexDigest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256()
        abc.update("abc")
        #expect(abc.hexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var long = SHA256()
        long.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        #expect(long.hexDigest() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}

/// XXH3-128, the hash of data fingerprints, gives the reference implementation's digests
/// (Python's `xxhash` 3.x, `xxh3_128(bytes).hexdigest()`, on the same bytes).
@Suite struct XXH3MatchesTheReference {
    @Test func knownVectors() {
        var empty = XXH3()
        empty.update([])
        #expect(empty.hexDigest() == "99aa06d3014798d86001c324468d497f")
        var abc = XXH3()
        abc.update("abc")
        #expect(abc.hexDigest() == "06b05ab6733a618578af5f94892f3950")
        var long = XXH3()   // 1 280 bytes: past XXH3's short-input paths, through its stripes
        long.update((0..<1280).map { UInt8($0 % 256) })
        #expect(long.hexDigest() == "d92ab3a1cb0542a74844b009e164352e")
    }
}

/// Both hashes of the project (SHA-256, XXH3) hash pieces like the whole, and are values: a copy
/// goes on by itself, and reading the digest does not end the hash.
@Suite struct ContentHashesAreValues {
    func piecesHashLikeTheWhole<H: ContentHash>(_: H.Type) -> Bool {
        let bytes = (0..<5000).map { UInt8($0 % 251) }
        var whole = H(), pieces = H()
        whole.update(bytes)
        for cut in [(0, 7), (7, 200), (200, 1300), (1300, 5000)] { pieces.update(Array(bytes[cut.0..<cut.1])) }
        return whole.hexDigest() == pieces.hexDigest()
    }

    func aCopyHashesOnItsOwn<H: ContentHash>(_: H.Type) -> Bool {
        var a = H()
        a.update("ab")
        var b = a
        b.update("c")
        a.update("x")
        var abc = H(), abx = H()
        abc.update("abc")
        abx.update("abx")
        return b.hexDigest() == abc.hexDigest() && a.hexDigest() == abx.hexDigest() && a.hexDigest() == abx.hexDigest()
    }

    @Test func sha256() { #expect(piecesHashLikeTheWhole(SHA256.self) && aCopyHashesOnItsOwn(SHA256.self)) }
    @Test func xxh3() { #expect(piecesHashLikeTheWhole(XXH3.self) && aCopyHashesOnItsOwn(XXH3.self)) }
}

/// A fingerprint names its hash in its JSON: checkpoints written before XXH3 (a "sha256" key)
/// still read, as SHA-256 fingerprints.
@Suite struct DataFingerprintsAreVersioned {
    @Test func aNewFingerprintIsStoredUnderItsHashsName() throws {
        let print = DataFingerprint(of: Dataset.blobs(count: 20, features: 2, classes: 2, seed: 1), description: "blobs")
        #expect(print.hash == .xxh3 && print.digest.count == 32)
        let json = String(decoding: try JSONEncoder().encode(print), as: UTF8.self)
        #expect(json.contains("\"xxh3\":\"\(print.digest)\"") && !json.contains("sha256"))
        #expect(try JSONDecoder().decode(DataFingerprint.self, from: Data(json.utf8)) == print)
    }

    @Test func anOlderCheckpointsFingerprintReadsAsSHA256() throws {
        let digest = String(repeating: "ab", count: 32)
        let old = try JSONDecoder().decode(DataFingerprint.self, from: Data("{\"sha256\":\"\(digest)\",\"description\":\"iris.csv\"}".utf8))
        #expect(old == DataFingerprint(hash: .sha256, digest: digest, description: "iris.csv"))
        let again = try JSONDecoder().decode(DataFingerprint.self, from: try JSONEncoder().encode(old))
        #expect(again == old)
    }
}

@Suite struct SafeTensorsFormat {
    func sample() -> SafeTensors {
        var file = SafeTensors(metadata: ["format": "pt", "note": "hello"])
        file.append("0.weight", Tensor([[1, 2, 3], [4, 5, 6]]))
        file.append("0.bias", Tensor([0.5, -0.5]))
        file.append(SafeTensors.Entry(name: "f64", dtype: .f64, shape: [2],
                                      bytes: Data([1.5, -2.25].flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })))
        return file
    }

    @Test func roundTripsEveryDtypeItWrites() throws {
        let bytes = try sample().serialized()
        let back = try SafeTensors.parse(bytes, name: "m")
        #expect(back.metadata == ["format": "pt", "note": "hello"])
        #expect(try back.tensor("0.weight") == Tensor([[1, 2, 3], [4, 5, 6]]))
        #expect(try back.tensor("0.bias").scalars == [0.5, -0.5])
        #expect(try back.tensor("f64").scalars == [1.5, -2.25])
        #expect(back["0.weight"]!.shape == [2, 3])
    }

    @Test func theHeaderIsPaddedToEightBytes() throws {
        let bytes = try sample().serialized()
        let length = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(length % 8 == 0)
    }

    /// A file from parts: an 8-byte length, a header text, and data bytes.
    func file(header: String, data: Int, length: UInt64? = nil) -> Data {
        var out = Data()
        withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(Data(header.utf8))
        out.append(Data(count: data))
        return out
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, nil, nil),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4, nil, "tensor 'a': data_offsets [0, 8] out of range of the 4-byte data area"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, UInt64(1000), "header length 1000 runs past the end of the file (70 bytes): truncated?"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, UInt64(1) << 40, "header length 1099511627776 exceeds the 100 MB limit (not safetensors?)"),
        (#"{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"#, 8, nil, "tensor 'a': unknown dtype 'Q7'"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, nil, "tensor 'a': shape [3] of F32 needs 12 bytes, data_offsets span 8"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, nil,
         "tensors 'a' and 'b' overlap in the data area"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, nil,
         "gap in the data area: bytes 0..<4 before tensor 'a' belong to no tensor"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, nil, "4 bytes after the last tensor belong to no tensor"),
        (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4, nil, "tensor 'a': shape must be a list of non-negative integers"),
        (#"{"a": [1, 2"#, 8, nil, "the header is not a JSON object"),
        (#"{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 4, nil, "__metadata__ must map strings to strings"),
    ] as [(String, Int, UInt64?, String?)])
    func malformedFilesAreRejectedWithTheirReason(header: String, data: Int, length: UInt64?, message: String?) throws {
        let bytes = file(header: header, data: data, length: length)
        if let message {
            #expect { try SafeTensors.parse(bytes, name: "m.safetensors") } throws: { "\($0)" == "m.safetensors: " + message }
        } else {
            #expect(try SafeTensors.parse(bytes, name: "m.safetensors").names == ["a"])
        }
    }

    /// A truncated file, every tensor past its end: the error names the first tensor by name, the
    /// same in every process (the header's dictionary order changes from process to process).
    @Test func aDamagedFileNamesTheSameTensorEveryTime() throws {
        let names = (0..<24).map { "t\(String($0 + 10))" }.shuffled()
        let header = "{" + names.map { #""\#($0)":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"# }.joined(separator: ",") + "}"
        #expect { try SafeTensors.parse(file(header: header, data: 0), name: "m.safetensors") } throws: {
            "\($0)" == "m.safetensors: tensor 't10': data_offsets [0, 4] out of range of the 0-byte data area"
        }
    }

    @Test func tooShortOrTruncatedFiles() throws {
        #expect { try SafeTensors.parse(Data("abc".utf8), name: "x") } throws: {
            "\($0)" == "x: 3 bytes is too short for a safetensors file (not safetensors?)"
        }
        let good = try sample().serialized()
        #expect(throws: FileError.self) { try SafeTensors.parse(good.prefix(good.count - 3), name: "x") }
    }
}

@Suite struct AtomicWrites {
    @Test func aWriteReplacesTheFileWhole() throws {
        let path = try temporaryDirectory().appendingPathComponent("f.bin").path
        try AtomicFile.write(Data("first".utf8), to: path)
        try AtomicFile.write(Data("second".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("second".utf8))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(leftovers == ["f.bin"])
    }

    @Test func aCrashBeforeTheRenameLeavesThePreviousFileValid() throws {
        // What a crash between write and rename leaves: the old file and a stray temporary.
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent(Checkpoint.fileName(step: 5)).path
        var file = SafeTensors(metadata: ["k": "v"])
        file.append("a", Tensor([1, 2]))
        try file.write(to: path)
        try Data(try file.serialized().prefix(20)).write(to: dir.appendingPathComponent("." + Checkpoint.fileName(step: 5) + ".tmp-1-2"))
        #expect(try SafeTensors.read(at: path).tensor("a").scalars == [1, 2])
        #expect(Checkpoint.latest(in: dir.path) == path)
    }

    @Test func anUnwritableDirectoryIsAClearError() {
        #expect(throws: FileError.self) { try AtomicFile.write(Data([1]), to: "/nonexistent-dir/model.safetensors") }
    }
}

@Suite struct ModelFiles {
    func trainedIris() throws -> (SavedModel, Dataset) {
        let data = try Dataset.readCSV(at: fixture("iris.csv"))
        let split = try data.split(testFraction: 0.2, seed: 0)
        let scaler = Standardizer(fitting: split.train.features)
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: .mlp(inputs: 4, hidden: [16], outputs: 3),
                                              loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-2))
        try trainer.fit(scaler.transform(split.train), epochs: 20, batchSize: 16)
        let document = ModelDocument(spec: try #require(trainer.spec), task: .classification, featureNames: data.featureNames,
                                     targetName: data.targetName, standardization: scaler, classLabels: ["setosa", "versicolor", "virginica"])
        return (SavedModel(model: trainer.model, document: document), split.test)
    }

    @Test func aModelFileHoldsPyTorchsStateDictAndItsDocument() throws {
        let (saved, _) = try trainedIris()
        let path = try temporaryDirectory().appendingPathComponent("iris.safetensors").path
        try saved.save(to: path)
        let file = try SafeTensors.read(at: path)
        #expect(file.names.sorted() == ["0.bias", "0.weight", "2.bias", "2.weight"])
        #expect(file["0.weight"]!.shape == [16, 4] && file["2.weight"]!.shape == [3, 16])
        #expect(file.metadata["format"] == "pt")
        let loaded = try SavedModel.load(from: path)
        #expect(loaded.document == saved.document)
        #expect(loaded.model.stateDict() == saved.model.stateDict())
    }

    @Test func aLoadedModelPredictsLikeTheTrainedOne() throws {
        let (saved, test) = try trainedIris()
        let path = try temporaryDirectory().appendingPathComponent("iris.safetensors").path
        try saved.save(to: path)
        let loaded = try SavedModel.load(from: path)
        #expect(bits(try loaded.predict(test.features).scalars) == bits(try saved.predict(test.features).scalars))
        let labels = try loaded.predictions(for: test.features)
        #expect(labels.count == test.count && Set(labels).isSubset(of: ["setosa", "versicolor", "virginica"]))
    }

    @Test func filesThatAreNotLockstepModelsAreRejected() throws {
        let dir = try temporaryDirectory()
        var plain = SafeTensors()
        plain.append("w", Tensor([1]))
        try plain.write(to: dir.appendingPathComponent("plain.safetensors").path)
        #expect { try SavedModel.load(from: dir.appendingPathComponent("plain.safetensors").path) } throws: {
            "\($0)".hasSuffix("no Lockstep metadata: a safetensors file, but not a Lockstep model")
        }
        let text = dir.appendingPathComponent("notes.txt").path
        try "hello world, not a model".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: FileError.self) { try SavedModel.load(from: text) }
        #expect { try SavedModel.load(from: dir.appendingPathComponent("missing.safetensors").path) } throws: {
            "\($0)".hasSuffix("missing.safetensors: no such file")
        }
    }
}
