import Foundation
import Synchronization
import Testing
@testable import Lockstep
@testable import LockstepBenchmarks

/// A GPT small enough to train in a test: the blocks of ByteGPT at width 16, windows of 8.
final class TinyGPT: Module {
    let tok = Embedding(256, 16), pos = PositionalEmbedding(8, 16)
    let block = TransformerBlock(16, heads: 2, hidden: 32), lnF = LayerNorm(16), head = Linear(16, 256)
    var children: [(name: String, module: any Module)] {
        [("tok", tok), ("pos", pos), ("block", block), ("ln_f", lnF), ("head", head)]
    }
    func forward(_ ids: Variable) -> Variable { head(lnF(block(pos(tok(ids))))) }
}

/// The byte-level transformer trained data-parallel (issue 11): the same gradient on any number
/// of workers, the same bytes on every run, no allocation once running.
@Suite struct ATransformerTrainsDataParallel {
    static let text = try! TokenWindows.readBytes(at: fixture("genesis-exodus.txt"))

    func trainer(_ workers: Int, seed: UInt64 = 1, _ model: @escaping @Sendable () -> any Module = { TinyGPT() }) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: model, seed: seed,
                                loss: CrossEntropyLoss(), optimizer: .adamW(lr: 3e-3))
    }

    @Test(arguments: [2, 4])
    func nWorkersGiveOneWorkersGradientForExamplesByteLM(workers: Int) throws {
        let windows = try TokenWindows(Self.text, context: ByteGPT.context, offsets: .random(count: 32, seed: 5))
        let rows = Array(0..<32)
        let one = try trainer(1) { ByteGPT() }.gradient(of: windows, rows: rows)
        let many = try trainer(workers) { ByteGPT() }.gradient(of: windows, rows: rows)
        let difference = relativeDifference(many, one)
        #expect(one.count == 470_784 && one.contains { $0 != 0 } && difference <= 1e-5, "relative difference \(difference)")
    }

    @Test func itLearnsAndTwoRunsGiveTheSameBytes() throws {
        let windows = try TokenWindows(Self.text, context: 8, offsets: .random(count: 60 * 16, seed: 2))
        var options = FitOptions(epochs: 1, batchSize: 16, seed: 2)
        options.stepLosses = true
        let losses = Mutex<[Float]>([])
        let first = try trainer(2)
        let result = try first.fit(windows, options) { event in
            if case let .stepLoss(_, loss) = event { losses.withLock { $0.append(loss) } }
        }
        let curve = losses.withLock { $0 }
        #expect(curve.count == 60)
        // Step losses are the global batch's: their mean is the epoch's training loss.
        let mean: Float = curve.reduce(0, +) / 60
        #expect(abs(mean - result.history[0].trainLoss) < 1e-4)
        let early: Float = curve.prefix(10).reduce(0, +) / 10, late: Float = curve.suffix(10).reduce(0, +) / 10
        #expect(late < early - 1, "\(curve)")
        let second = try trainer(2)
        try second.fit(windows, options)
        #expect(first.replicaParameters(0) == second.replicaParameters(0))
        #expect(first.replicaParameters(1) == first.replicaParameters(0))
    }

    @Test func aResumeEndsWhereTheWholeRunEnds() throws {
        let windows = try TokenWindows(Self.text, context: 8, offsets: .random(count: 30 * 16, seed: 3))
        var options = FitOptions(epochs: 2, batchSize: 16, seed: 3)
        let whole = try trainer(2)
        try whole.fit(windows, options)

        let directory = try temporaryDirectory()
        options.checkpoints = CheckpointPolicy(directory: directory.path)
        let first = try trainer(2)
        try first.fit(windows, options) { event in
            if case let .stepEnded(_, step, _) = event, step == 41 { first.stop() }
        }
        var resumed = FitOptions(epochs: 2, batchSize: 16, seed: 3)
        resumed.resume = try ResumePoint.newest(in: directory.path).checkpoint
        let second = try trainer(2)
        try second.fit(windows, resumed)
        #expect(second.replicaParameters(0) == whole.replicaParameters(0))
    }

    @Test func aSavedModelLoadsIntoEveryReplicaOfAnotherTrainer() throws {
        let windows = try TokenWindows(Self.text, context: 8, offsets: .random(count: 10 * 16, seed: 6))
        let trained = try trainer(2)
        try trained.fit(windows, FitOptions(epochs: 1, batchSize: 16))
        let file = try temporaryDirectory().appendingPathComponent("tiny.safetensors").path
        try trained.model.save(to: file)
        let other = try trainer(3, seed: 9)
        #expect(other.replicaParameters(0) != trained.replicaParameters(0))
        try other.load(from: file)
        for rank in 0..<3 { #expect(other.replicaParameters(rank) == trained.replicaParameters(0)) }
        // A file of another model changes nothing and names what does not fit.
        let wider = try trainer(1) { ByteGPT() }
        let before = wider.replicaParameters(0)
        #expect(throws: (any Error).self) { try wider.load(from: file) }
        #expect(wider.replicaParameters(0) == before)
    }

    @Test func theValidationLossIsTheMeanOverEveryPosition() throws {
        let windows = try TokenWindows(Array(Self.text.prefix(200)), context: 8, offsets: .strided(8))
        let model = Sequential(root: TinyGPT(), seed: 3)
        let mean = try Evaluator.meanLoss(model, on: windows, loss: CrossEntropyLoss(), batchSize: 7)
        // The same figure from one batch of every window.
        let all = try Evaluator.meanLoss(model, on: windows, loss: CrossEntropyLoss(), batchSize: 1000)
        #expect(windows.count == 24 && abs(mean - all) < 1e-5 && mean > 4 && mean < 7, "\(mean) \(all)")
    }

    /// The `transformer` benchmark workload measures Examples/ByteLM's network, not a look-alike.
    @Test func theBenchmarkModelIsTheExamplesClass() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        func model(_ path: String) throws -> String {
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            let start = try #require(text.range(of: "final class ByteGPT: Module {"))
            let end = try #require(text.range(of: "\n}\n", range: start.upperBound..<text.endIndex))
            return String(text[start.lowerBound..<end.upperBound])
        }
        #expect(try model("Examples/ByteLM/main.swift") == model("Sources/LockstepBenchmarks/ByteGPT.swift"))
        #expect(Workload.named("transformer")!.flopsPerSample > 1e8)
    }
}

extension AllocationFreeSteadyState {
    @Test func aTransformerStepAllocatesNothingAfterItsFirstSteps() throws {
        let windows = try TokenWindows(ATransformerTrainsDataParallel.text, context: 8, offsets: .random(count: 20 * 16, seed: 4))
        #expect(try allocations(ATransformerTrainsDataParallel().trainer(2), windows, batchSize: 16, until: 18) == 0)
    }
}

/// What the review of issue 11 found, kept found.
@Suite struct SequenceMistakesAreRefused {
    @Test func sequenceTargetsAgainstFlattenedLogitsAreRefused() {
        let tape = Tape(mode: .inference)
        _ = tape.input(Tensor(zeros: Shape(6, 5))).crossEntropyLoss(tape.input(Tensor(zeros: Shape(2, 3))), divisor: 2)
        #expect(tape.failure?.contains("keep the logits [N, T, classes]") == true, "\(tape.failure ?? "")")
        let transposed = Tape(mode: .inference)
        _ = transposed.input(Tensor(zeros: Shape(2, 3, 5))).crossEntropyLoss(transposed.input(Tensor(zeros: Shape(3, 2))), divisor: 2)
        #expect(transposed.failure?.contains("targets [2, 3]") == true, "\(transposed.failure ?? "")")
    }

    @Test(arguments: [0, 65_536, Int.max])
    func headCountsOutsideSixteenBitsAreRefused(heads: Int) {
        let tape = Tape()
        _ = tape.input(Tensor(zeros: Shape(1, 2, 3 * 4))).attention(heads: heads, causal: true)
        #expect(tape.failure?.contains("heads") == true)
    }

    @Test func aMeanLossOfNoSamplesIsRefused() throws {
        let none = try TokenWindows(Array(repeating: 65, count: 20), context: 8, offsets: .random(count: 0, seed: 0))
        #expect(throws: ConfigurationError.self) {
            try Evaluator.meanLoss(Sequential(root: TinyGPT(), seed: 0), on: none, loss: CrossEntropyLoss())
        }
    }

    @Test func aStateWithNaNIsRefusedAndChangesNothing() throws {
        let model = TinyGPT()
        var state = model.stateDict()
        let before = state["head.bias"]!
        state["head.bias"] = Tensor([Float](repeating: .nan, count: 256), shape: Shape(256))
        state["tok.weight"] = Tensor(zeros: Shape(256, 16))
        #expect(throws: ModelError.notFinite("head.bias")) { try model.loadStateDict(state) }
        #expect(model.stateDict()["head.bias"] == before && model.stateDict()["tok.weight"] != state["tok.weight"])
    }
}

@Suite struct TokenWindowsAreSamplesOfAByteFile {
    let bytes: [UInt8] = Array(0..<100)

    @Test func eachWindowPredictsTheByteAfterEachPosition() throws {
        let windows = try TokenWindows(bytes, context: 4, offsets: .strided(4))
        #expect(windows.count == 24)   // offsets 0, 4, …, 92: the last needs bytes 92…96
        var features = [Float](repeating: 0, count: 8), targets = [Float](repeating: 0, count: 8)
        [1, 23].withUnsafeBufferPointer { rows in windows.gather(rows, features: &features, targets: &targets) }
        #expect(features == [4, 5, 6, 7, 92, 93, 94, 95] && targets == [5, 6, 7, 8, 93, 94, 95, 96])
    }

    @Test func randomOffsetsDependOnTheSeedAndRowOnlyAndStayInside() throws {
        let a = try TokenWindows(bytes, context: 10, offsets: .random(count: 2000, seed: 1))
        let b = try TokenWindows(bytes, context: 10, offsets: .random(count: 2000, seed: 1))
        let c = try TokenWindows(bytes, context: 10, offsets: .random(count: 2000, seed: 2))
        let offsets = (0..<2000).map(a.offset(of:))
        #expect(offsets == (0..<2000).map(b.offset(of:)) && offsets != (0..<2000).map(c.offset(of:)))
        #expect(offsets.allSatisfy { (0...89).contains($0) } && Set(offsets).count == 90)
        #expect(a.fingerprint() == b.fingerprint() && a.fingerprint() != c.fingerprint())
    }

    @Test func sizesThatHoldNoWindowAreRefused() throws {
        #expect(throws: ConfigurationError.self) { try TokenWindows(bytes, context: 100, offsets: .strided(1)) }
        #expect(throws: ConfigurationError.self) { try TokenWindows(bytes, context: 0, offsets: .strided(1)) }
        #expect(throws: ConfigurationError.self) { try TokenWindows(bytes, context: 4, offsets: .strided(0)) }
        #expect(throws: ConfigurationError.self) { try TokenWindows(bytes, context: 4, offsets: .random(count: -1, seed: 0)) }
    }

    @Test func aMissingFileOrADirectoryIsNamed() throws {
        #expect(throws: DataError(file: "/no/such/file", "no such file")) { try TokenWindows.readBytes(at: "/no/such/file") }
        let directory = try temporaryDirectory().path
        #expect(throws: DataError(file: directory, "a directory, not a file of text")) { try TokenWindows.readBytes(at: directory) }
    }
}
