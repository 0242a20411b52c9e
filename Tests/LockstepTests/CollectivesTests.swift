import Synchronization
import Testing
@testable import Lockstep

/// The collectives that carry a run's control and its sharded state between ranks: what a
/// checkpoint gathers and a resume scatters, and the decision rank 0 sends with every all-gather.
@Suite struct Collectives {
    @Test(arguments: [1, 2, 3, 5, 8])
    func gatherLaysEveryRanksShardIntoTheRootsBufferAndScatterHandsThemBack(ranks: Int) throws {
        let count = 1003
        let launcher = try ThreadLauncher(ranks: ranks)
        let gathered = Locked<[Float]>([])
        let returned = Locked<[[Float]]>(Array(repeating: [], count: ranks))
        try launcher.run { rank, comm in
            let mine = comm.shard(of: count, rank: rank)
            let part = mine.map { Float(rank) * 1000 + Float($0) }
            var whole = rank == 0 ? [Float](repeating: -1, count: count) : nil
            try part.withUnsafeBufferPointer { p in
                if whole == nil { try comm.gather(p, count: count, into: nil, root: 0) } else {
                    try whole!.withUnsafeMutableBufferPointer { try comm.gather(p, count: count, into: $0, root: 0) }
                }
            }
            if let whole { gathered.withLock { $0 = whole } }
            var back = [Float](repeating: 0, count: mine.count)
            try back.withUnsafeMutableBufferPointer { b in
                if let whole { try whole.withUnsafeBufferPointer { try comm.scatter($0, count: count, into: b, root: 0) } }
                else { try comm.scatter(nil, count: count, into: b, root: 0) }
            }
            returned.withLock { $0[rank] = back }
        }
        let whole = gathered.withLock { $0 }
        for rank in 0..<ranks {
            let shard = Shards.range(of: count, part: rank, parts: ranks)
            #expect(Array(whole[shard]) == shard.map { Float(rank) * 1000 + Float($0) })
            #expect(returned.withLock { $0[rank] } == Array(whole[shard]))
        }
    }

    @Test(arguments: [1, 2, 4, 7])
    func everyRankGetsRankZerosWordWithTheAllGatherStepAfterStep(ranks: Int) throws {
        let launcher = try ThreadLauncher(ranks: ranks)
        let wrong = Atomic<Int>(0)
        try launcher.run { rank, comm in
            let buffer = AlignedBuffer(count: 64)
            for round in 0..<300 {
                // Back to back, with no other collective between: the words must not mix.
                let word = try comm.allGather(buffer.buffer, broadcasting: rank == 0 ? round : -rank)
                if word != round { wrong.wrappingAdd(1, ordering: .relaxed) }
            }
            try withExtendedLifetime(buffer) { try comm.barrier() }   // others may still be copying from it
        }
        #expect(wrong.load(ordering: .relaxed) == 0)
    }

    @Test(arguments: [2, 5, 8])
    func backToBackCollectivesOnChangingBuffersNeverReadAStaleSlot(ranks: Int) throws {
        // The same collective again and again with nothing between, threads outnumbering cores, a
        // different buffer each call (three in turn, so each is free again by the contract): a fast
        // rank's next call must not overwrite the slot a slow rank is still reading.
        let launcher = try ThreadLauncher(ranks: ranks, spins: 0)
        let wrong = Atomic<Int>(0)
        let count = 16 * ranks * 3
        try launcher.run { rank, comm in
            let buffers = (0..<3).map { _ in AlignedBuffer(count: count) }
            for round in 0..<300 {
                let buffer = buffers[round % 3]
                for i in comm.shard(of: count, rank: rank) { buffer.base[i] = Float(round * 10_000 + i) }
                try comm.allGather(buffer.buffer)
                if (0..<count).contains(where: { buffer.base[$0] != Float(round * 10_000 + $0) }) { wrong.wrappingAdd(1, ordering: .relaxed) }
            }
            for round in 0..<300 {
                let buffer = buffers[round % 3]
                for i in 0..<count { buffer.base[i] = Float(rank + round) }
                try comm.reduceScatter(buffer.buffer)
                let expected = Float((0..<ranks).reduce(0) { $0 + $1 + round })
                if comm.shard(of: count, rank: rank).contains(where: { buffer.base[$0] != expected }) { wrong.wrappingAdd(1, ordering: .relaxed) }
            }
            // Others may still be reading these buffers: keep them alive (Swift may end a
            // value's lifetime after its last use, not at the end of its scope) until all are done.
            try withExtendedLifetime(buffers) { try comm.barrier() }
        }
        #expect(wrong.load(ordering: .relaxed) == 0)
    }

    @Test func broadcastGivesEveryRankTheRootsScalarsExactly() throws {
        let launcher = try ThreadLauncher(ranks: 5)
        let got = Locked<[[Double]]>([])
        try launcher.run { rank, comm in
            var values = rank == 2 ? [0.1, -3e300, 7] : [Double(rank), 1, 2]
            try comm.broadcast(&values, root: 2)
            got.withLock { $0.append(values) }
        }
        #expect(got.withLock { $0 }.allSatisfy { $0 == [0.1, -3e300, 7] })
    }

    @Test func aFailingRankStopsTheOthersInsideAGather() throws {
        let launcher = try ThreadLauncher(ranks: 3)
        #expect(throws: WorkerFailure.self) {
            try launcher.run { rank, comm in
                if rank == 1 { throw ConfigurationError("rank 1 cannot read its shard") }
                let part = [Float](repeating: 0, count: comm.shard(of: 48, rank: rank).count)
                var whole = [Float](repeating: 0, count: 48)
                try part.withUnsafeBufferPointer { p in
                    try whole.withUnsafeMutableBufferPointer {   // rank 1 never arrives: it broke the group
                        try comm.gather(p, count: 48, into: rank == 0 ? $0 : nil, root: 0)
                    }
                }
            }
        }
        // The group mends for the next job.
        try launcher.run { _, comm in try comm.barrier() }
    }
}
