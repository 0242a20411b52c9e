import Synchronization
import Testing
@testable import Lockstep

/// Runs `body(rank)` on `n` threads of a fresh pool and waits.
func onThreads(_ n: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    try WorkerPool(size: n, cpus: nil).run(body)
}

@Suite struct ParallelBarrier {
    @Test(arguments: [(4, 4000), (8, 0), (3, 100)])
    func noThreadPassesBeforeAllArrive(threads: Int, spins: Int) throws {
        let barrier = Barrier(parties: threads, spins: spins)
        let arrivals = Atomic<Int>(0)
        let violations = Atomic<Int>(0)
        try onThreads(threads) { _ in
            for phase in 1...300 {
                arrivals.wrappingAdd(1, ordering: .sequentiallyConsistent)
                try barrier.wait()
                if arrivals.load(ordering: .sequentiallyConsistent) < phase * threads { violations.wrappingAdd(1, ordering: .relaxed) }
                try barrier.wait()
            }
        }
        #expect(violations.load(ordering: .relaxed) == 0)
        #expect(arrivals.load(ordering: .relaxed) == 300 * threads)
    }

    @Test func breakingWakesEveryWaiterWithTheReason() throws {
        let barrier = Barrier(parties: 3, spins: 10)
        let reasons = Locked<[String]>([])
        try onThreads(3) { rank in
            if rank == 2 {
                barrier.breakBarrier(reason: "worker 2 failed")
                return
            }
            do { try barrier.wait() } catch let error as WorkerAborted { reasons.withLock { $0.append(error.reason) } }
        }
        #expect(reasons.withLock { $0 } == ["worker 2 failed", "worker 2 failed"])
        #expect(throws: WorkerAborted.self) { try barrier.wait() }
    }
}

@Suite struct ParallelCommunicator {
    /// The value rank r puts at element i: distinct per rank and element, not exactly representable sums.
    static func value(_ rank: Int, _ i: Int) -> Float { Float(rank + 1) * 0.1 + Float(i % 97) * 0.013 }

    /// Σ over ranks in the fixed tree, in Float, the way the communicator must add.
    static func treeSum(_ ranks: Range<Int>, _ i: Int) -> Float {
        if ranks.count == 1 { return value(ranks.lowerBound, i) }
        let mid = ReductionTree.split(ranks.lowerBound, ranks.upperBound)
        return treeSum(ranks.lowerBound..<mid, i) + treeSum(mid..<ranks.upperBound, i)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 8])
    func reduceScatterThenAllGatherGivesEveryRankTheTreeSum(ranks: Int) throws {
        let count = 3001   // not a multiple of 16 × ranks: the last shard is short
        let group = ThreadGroup(size: ranks, spins: 100)
        let results = Locked<[[Float]]>(Array(repeating: [], count: ranks))
        try onThreads(ranks) { rank in
            let comm = group.communicator(rank: rank)
            let buffer = AlignedBuffer(count: count)
            for i in 0..<count { buffer.base[i] = Self.value(rank, i) }
            try comm.reduceScatter(buffer.buffer)
            try comm.allGather(buffer.buffer)
            try comm.barrier()   // others may still read this rank's buffer until the next collective
            results.withLock { $0[rank] = Array(buffer.buffer) }
        }
        let expected = (0..<count).map { Self.treeSum(0..<ranks, $0) }
        for rank in 0..<ranks {
            let got = results.withLock { $0[rank] }
            let mismatch = got.indices.first { got[$0].bitPattern != expected[$0].bitPattern }
            #expect(mismatch == nil, "rank \(rank), element \(mismatch ?? 0): \(got[mismatch ?? 0]) ≠ \(expected[mismatch ?? 0])")
        }
    }

    @Test func theTreeIsPairwiseOverRanks() {
        #expect(ReductionTree.split(0, 4) == 2)
        #expect(ReductionTree.split(0, 3) == 2)
        #expect(ReductionTree.split(0, 8) == 4)
        #expect(ReductionTree.split(0, 6) == 4)
        #expect(ReductionTree.split(4, 6) == 5)
    }

    @Test func shardsCoverTheBufferOnCacheLineBoundaries() {
        for parts in 1...8 {
            let ranges = (0..<parts).map { Shards.range(of: 1000, part: $0, parts: parts) }
            #expect(ranges.first!.lowerBound == 0 && ranges.last!.upperBound == 1000)
            for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
            #expect(ranges.allSatisfy { $0.lowerBound % 16 == 0 })
        }
    }

    @Test func allReduceSumsScalarsInTreeOrderRepeatedly() throws {
        let group = ThreadGroup(size: 4, spins: 100)
        let sums = Locked<[[Double]]>([])
        try onThreads(4) { rank in
            let comm = group.communicator(rank: rank)
            for round in 0..<50 {
                var values = [Double(rank) + 0.5, Double(round)]
                try comm.allReduce(&values)
                if rank == 0 { sums.withLock { $0.append(values) } }
                #expect(values == [8, Double(4 * round)])
            }
        }
        #expect(sums.withLock { $0.count } == 50)
    }

    @Test func abortStopsEveryRank() throws {
        let group = ThreadGroup(size: 3, spins: 10)
        let aborted = Atomic<Int>(0)
        try onThreads(3) { rank in
            let comm = group.communicator(rank: rank)
            if rank == 1 { comm.abort("rank 1 gave up"); return }
            do { try comm.barrier() } catch is WorkerAborted { aborted.wrappingAdd(1, ordering: .relaxed) }
        }
        #expect(aborted.load(ordering: .relaxed) == 2)
    }

    /// A rank whose job ends while another waits in a collective is an error, not a hang, and
    /// the error tells where the ranks' sequences of collectives parted: how many each entered
    /// and the last of each.
    @Test(hangLimit)
    func aRankThatLeavesEarlyIsNamedWithEveryRanksCollectives() throws {
        let launcher = try ThreadLauncher(ranks: 2)
        #expect {
            try launcher.run { rank, comm in
                var x = [1.0, 2.0]
                try comm.allReduce(&x)
                if rank == 1 { try comm.barrier() }
            }
        } throws: {
            "\($0)".contains("a party left") && "\($0)".contains("collectives each rank entered: rank 0: 1, the last allReduce of 2 elements; "
                                                          + "rank 1: 2, the last barrier")
        }
        // The next job starts counting afresh.
        #expect { try launcher.run { rank, comm in if rank == 0 { try comm.barrier() } } } throws: {
            "\($0)".contains("rank 0: 1, the last barrier; rank 1: 0")
        }
    }

    /// The same where a thread runs several ranks in turn: a rank of the ring leaves while its
    /// thread-mates wait.
    @Test(hangLimit)
    func aRankThatLeavesEarlyOnASharedThreadIsNamedWithEveryRanksCollectives() throws {
        let launcher = try ThreadLauncher(ranks: 4, threads: 2)
        #expect {
            try launcher.run { rank, comm in
                try comm.barrier()
                if rank != 3 { try comm.barrier() }
            }
        } throws: { "\($0)".contains("rank 2: 2, the last barrier; rank 3: 1, the last barrier") }
    }
}

@Suite struct ParallelWorkerPool {
    @Test func runsTheJobOnEveryWorkerAndCanRunAgain() throws {
        let pool = try WorkerPool(size: 4, cpus: nil)
        let seen = Locked<Set<Int>>([])
        try pool.run { rank in seen.withLock { _ = $0.insert(rank) } }
        #expect(seen.withLock { $0 } == [0, 1, 2, 3])
        let count = Atomic<Int>(0)
        try pool.run { _ in count.wrappingAdd(1, ordering: .relaxed) }
        #expect(count.load(ordering: .relaxed) == 4)
    }

    /// A thread the system will not start (here: a stack larger than any address space) is an
    /// error naming the worker, not a wait for a thread that never runs.
    @Test func aThreadThatCannotStartIsAnErrorNotAHang() throws {
        #expect(throws: ConfigurationError.self) { try WorkerPool(size: 3, cpus: nil, stackBytes: 1 << 62) }
        #expect(try WorkerPool(size: 2, cpus: nil).size == 2)
    }

    struct Boom: Error {}

    @Test func theRootFailureIsReportedNotTheAborts() throws {
        let pool = try WorkerPool(size: 3, cpus: nil)
        let barrier = Barrier(parties: 3, spins: 10)
        do {
            try pool.run({ rank in
                if rank == 1 { throw Boom() }
                try barrier.wait()
            }, onFailure: { rank, _ in barrier.breakBarrier(reason: "worker \(rank) failed") })
            Issue.record("the failure was not reported")
        } catch let failure as WorkerFailure {
            #expect(failure.rank == 1)
            #expect(failure.underlying is Boom)
        }
    }

    @Test func workersArePinnedWhereTheSystemAllows() throws {
        let cpus = Topology.current().cpus(forWorkers: 2, placement: .packed)
        let pool = try WorkerPool(size: 2, cpus: cpus)
        #expect(pool.pinnedCPUs == cpus.map { Optional($0) })
    }
}

@Suite struct PlacementOnHandBuiltTopologies {
    let twoNodes = Topology(nodes: [[0, 1, 2, 3], [4, 5, 6, 7]])

    @Test func packedFillsNodeByNode() {
        #expect(twoNodes.cpus(forWorkers: 6, placement: .packed) == [0, 1, 2, 3, 4, 5])
    }

    @Test func spreadDealsRoundRobinOverNodes() {
        #expect(twoNodes.cpus(forWorkers: 6, placement: .spread) == [0, 4, 1, 5, 2, 6])
    }

    @Test func moreWorkersThanCPUsWrapAround() {
        #expect(Topology(nodes: [[0, 1]]).cpus(forWorkers: 5, placement: .packed) == [0, 1, 0, 1, 0])
        #expect(twoNodes.cpus(forWorkers: 10, placement: .spread).suffix(2) == [0, 4])
    }

    @Test func unevenNodes() {
        let t = Topology(nodes: [[0, 1, 2], [8]], nodeIDs: [0, 3])
        #expect(t.cpus(forWorkers: 4, placement: .spread) == [0, 8, 1, 2])
        #expect(t.node(ofCPU: 8) == 3)
        #expect(t.description == "2 NUMA nodes (0: CPUs 0-2; 3: CPUs 8)")
    }

    @Test func theCurrentMachineHasAtLeastOneCPU() {
        let t = Topology.current()
        #expect(t.cpuCount >= 1)
        #expect(t.nodes.allSatisfy { !$0.isEmpty })
    }
}
