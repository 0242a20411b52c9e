import Synchronization

/// The CPUs that this process's trainers have pinned their workers to, so that a second trainer
/// takes the CPUs the first leaves free instead of the same ones (packed placement always starts
/// at the first allowed CPU). Pinning never changes the arithmetic, only where it runs.
enum CPUClaims {
    /// CPU → workers pinned there, over every live trainer of the process.
    private static let held = Mutex<[Int: Int]>([:])

    /// `preferred` (one CPU per worker, in placement order) with each CPU that other trainers
    /// hold replaced by a free one of `allowed` (in its order) while any is free; the result is
    /// claimed until `release`.
    static func claim(_ preferred: [Int], allowed: [Int]) -> [Int] {
        held.withLock { held in
            let chosen = assign(preferred, allowed: allowed, held: held)
            for cpu in chosen { held[cpu, default: 0] += 1 }
            return chosen
        }
    }

    /// Gives back CPUs that `claim` returned.
    static func release(_ cpus: [Int]) {
        held.withLock { held in
            for cpu in cpus {
                held[cpu, default: 0] -= 1
                if held[cpu]! <= 0 { held[cpu] = nil }
            }
        }
    }

    /// The choice itself, for a given state of the claims: a preferred CPU that no one holds is
    /// kept (a trainer's own workers may share one, when they outnumber the CPUs); a held one is
    /// swapped for the first allowed CPU that neither others nor this request hold yet.
    static func assign(_ preferred: [Int], allowed: [Int], held: [Int: Int]) -> [Int] {
        var mine: [Int: Int] = [:]
        var chosen: [Int] = []
        for cpu in preferred {
            var pick = cpu
            if held[cpu, default: 0] > 0, let free = allowed.first(where: { held[$0, default: 0] == 0 && mine[$0, default: 0] == 0 }) {
                pick = free
            }
            mine[pick, default: 0] += 1
            chosen.append(pick)
        }
        return chosen
    }
}
