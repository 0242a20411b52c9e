import AllocationCounter
import Foundation
import Testing
@testable import Lockstep

/// Many workers on two cores, batches barely above the worker count, one trainer fitted again
/// and again, many trainers made and dropped: no hang, the exact answer, memory that stays put.
@Suite struct StressWithoutHangsOrLeaks {
    static let data = Dataset.blobs(count: 96, features: 6, classes: 3, seed: 4)
    static let spec = ModelSpec.mlp(inputs: 6, hidden: [16], outputs: 3)

    func trainer(_ workers: Int) throws -> DataParallelTrainer {
        try DataParallelTrainer(workers: workers, topology: flatTopology(), model: Self.spec, seed: 3,
                                loss: CrossEntropyLoss(), optimizer: .sgd(lr: 0.05, momentum: 0.9))
    }

    /// 16 and 32 workers with batches of workers + 1 rows (every shard one or two rows) give the
    /// gradient one worker gives, and three fits in a row on one trainer stay in step with a
    /// trainer that made the same fits.
    @Test(arguments: [16, 32])
    func manyWorkersOnTwoCoresGiveTheOneWorkerAnswer(workers: Int) throws {
        let rows = Array(0..<(workers + 1))
        let one = try trainer(1).gradient(of: Self.data, rows: rows)
        let many = try trainer(workers)
        #expect(relativeDifference(try many.gradient(of: Self.data, rows: rows), one) <= 1e-5)
        let again = try trainer(workers)
        for round in 0..<3 {
            try many.fit(Self.data, epochs: 2, batchSize: workers + 1, seed: UInt64(round))
            try again.fit(Self.data, epochs: 2, batchSize: workers + 1, seed: UInt64(round))
        }
        #expect(bits(many.replicaParameters(0)) == bits(again.replicaParameters(0)))
        #expect(bits(many.replicaParameters(workers - 1)) == bits(many.replicaParameters(0)))
    }

    /// Forty trainers of 8 workers made, trained and dropped: each goes at once, with its
    /// replicas and threads (a worker thread that kept the last job alive used to end up running
    /// the trainer's deinit and wait there for itself, keeping its replicas forever). Each holds about 9 MB of replicas (68k parameters × 4 buffers × 8 workers), so
    /// forty kept alive would add some 350 MB; resident memory (process-wide, shared with the
    /// suites running beside this one) must grow by less than 200 MB. The memory bound holds where
    /// the allocator is the system's: under a sanitizer, freed memory stays in its runtime (ASan's
    /// quarantine, TSan's shadow of every heap byte and its thread records), and CI's TSan stage
    /// measured 252 MB of growth with every trainer and replica already gone (the weak references
    /// below, which hold in every build).
    @Test func manyTrainersComeAndGoWithoutGrowingMemory() throws {
        func residentBytes() -> Int {
            let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
            return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        let spec = ModelSpec.mlp(inputs: 6, hidden: [256, 256], outputs: 3)
        func round() throws -> (DataParallelTrainer?, Sequential?) {
            let t = try DataParallelTrainer(workers: 8, topology: flatTopology(), model: spec, seed: 1,
                                            loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
            try t.fit(Self.data, epochs: 1, batchSize: 16)
            return (t, t.model)
        }
        for _ in 0..<5 { _ = try round() }   // warm the allocator
        let before = residentBytes()
        for _ in 0..<40 {
            weak var trainer: DataParallelTrainer?
            weak var model: Sequential?
            (trainer, model) = try round()
            #expect(trainer == nil && model == nil, "a trainer or its replica outlived its last use")
        }
        guard allocation_counter_available() == 1 else { return }   // a sanitizer owns malloc
        let grown = residentBytes() - before
        #expect(before > 0)
        #expect(grown < 200 << 20, "resident memory grew by \(grown >> 20) MB over 40 trainers")
    }

    /// Two trainers training at the same time in one process do not disturb each other.
    @Test func twoTrainersAtOnceGiveTheirOwnAnswers() throws {
        let alone = try trainer(4)
        try alone.fit(Self.data, epochs: 3, batchSize: 12, seed: 9)
        let a = try trainer(4), b = try trainer(3)
        let results = Locked<[Int: [Float]]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let t = i == 0 ? a : b
            try? t.fit(Self.data, epochs: 3, batchSize: 12, seed: 9)
            results.withLock { $0[i] = t.replicaParameters(0) }
        }
        #expect(bits(results.withLock { $0[0] } ?? []) == bits(alone.replicaParameters(0)))
        let oneThree = try trainer(3)
        try oneThree.fit(Self.data, epochs: 3, batchSize: 12, seed: 9)
        #expect(bits(results.withLock { $0[1] } ?? []) == bits(oneThree.replicaParameters(0)))
    }
}
