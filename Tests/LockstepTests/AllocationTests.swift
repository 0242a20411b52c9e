import AllocationCounter
import Testing
@testable import Lockstep

/// The steady state of training allocates nothing on the heap: steps 2…K reuse the arena, the
/// tape's capacity and the flat buffers that step 1 set up. This holds for optimized builds (what
/// `make test` runs): at -Onone the standard library's unspecialized generic iterators allocate.
// Serialized: the counter is one global, so a test running beside another counted the other's
// worker threads and saw its reset (a 1-, 4- or 9-allocation failure in about half the runs).
@Suite(.serialized, .enabled(if: allocation_counter_available() == 1 && isOptimizedBuild, "counts malloc in optimized builds without sanitizers"))
struct AllocationFreeSteadyState {
    @Test func aTrainingLoopOnOneThreadAllocatesNothingAfterItsFirstStep() throws {
        let data = Dataset.blobs(count: 256, features: 8, classes: 4, seed: 1)
        let model = ModelSpec.mlp(inputs: 8, hidden: [32, 32], outputs: 4, dropout: 0.1).build(seed: 0)
        let optimizer = Adam(model, lr: 1e-3)
        let lossFunction = CrossEntropyLoss()
        let tape = Tape()
        let batch = Array(0..<64)
        func step(_ k: Int) {
            tape.reset()
            tape.step = k
            let targets = tape.arena.allocate(64, zeroed: false)
            let x = batch.withUnsafeBufferPointer { rows in
                tape.input(Shape(64, 8)) { data.gather(rows, features: $0.baseAddress!, targets: targets) }
            }
            let loss = lossFunction(model(x), tape.leaf(data: targets, grad: nil, shape: Shape(64)))
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
        step(0)
        allocation_counter_reset()
        allocation_counter_enable_thread(1)
        for k in 1..<20 { step(k) }
        allocation_counter_enable_thread(0)
        #expect(allocation_counter_count() == 0)
    }

    @Test(arguments: [1, 2])
    func theDataParallelStepAllocatesNothingAfterItsFirstStep(workers: Int) throws {
        let data = Dataset.blobs(count: 2000, features: 8, classes: 4, seed: 1)   // 32 steps per epoch
        let trainer = try DataParallelTrainer(workers: workers, topology: flatTopology(), model: .mlp(inputs: 8, hidden: [32], outputs: 4),
                                              loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.01, momentum: 0.9), clipNorm: 1)
        #expect(try allocations(trainer, data, batchSize: 64, until: 30) == 0)
    }
}

extension AllocationFreeSteadyState {
    @Test func aConvolutionalStepAllocatesNothingAfterItsFirstStep() throws {
        var data = Dataset.blobs(count: 640, features: 64, classes: 4, seed: 2)
        data.features = data.features.reshaped(Shape(640, 1, 8, 8))
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: {
            Sequential { Conv2d(1, 4, kernel: 3, padding: 1); ReLU(); MaxPool2d(2); Flatten(); Linear(64, 4) }
        }, loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
        #expect(try allocations(trainer, data, batchSize: 32, until: 18) == 0)
    }
}

/// Two branches joined by a concatenation, batch norm (its all-reduces inside forward and
/// backward) and a permutation: the ops a module of the caller's own uses.
private final class Branches: Module {
    let left = Conv2d(1, 2, kernel: 3, padding: 1), right = Conv2d(1, 2, kernel: 1), bn = BatchNorm2d(4), fc = Linear(256, 4)
    var children: [(name: String, module: any Module)] { [("left", left), ("right", right), ("bn", bn), ("fc", fc)] }
    func forward(_ x: Variable) -> Variable {
        let joined = bn(left(x).concatenated(with: right(x), axis: 1)).relu()
        return fc(joined.permuted([0, 2, 3, 1]).flattened())
    }
}

extension AllocationFreeSteadyState {
    @Test func aModuleWithBatchNormBranchesAndAPermutationAllocatesNothingAfterItsFirstStep() throws {
        var data = Dataset.blobs(count: 640, features: 64, classes: 4, seed: 2)
        data.features = data.features.reshaped(Shape(640, 1, 8, 8))
        let trainer = try DataParallelTrainer(workers: 2, topology: flatTopology(), model: { Branches() },
                                              loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
        #expect(try allocations(trainer, data, batchSize: 32, until: 18) == 0)
    }
}

final class CountBox: @unchecked Sendable { var value = -1 }

/// Heap allocations on the worker threads from the end of step 2 to the end of step `last` of an
/// epoch of `data` (steps 1–2 set up the arena, the tape's capacity and the flat buffers).
func allocations(_ trainer: DataParallelTrainer, _ data: any DataSource, batchSize: Int, until last: Int) throws -> Int {
    try trainer.runOnWorkers { _ in allocation_counter_enable_thread(1) }
    let counted = CountBox()
    try trainer.fit(data, epochs: 1, batchSize: batchSize) { event in
        guard case let .stepEnded(_, step, _) = event else { return }
        if step == 2 { allocation_counter_reset() }
        if step == last { counted.value = allocation_counter_count() }
    }
    try trainer.runOnWorkers { _ in allocation_counter_enable_thread(0) }
    return counted.value
}

#if DEBUG
let isOptimizedBuild = false
#else
let isOptimizedBuild = true
#endif
