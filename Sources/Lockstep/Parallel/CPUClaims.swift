import Foundation

/// The CPUs that this process's trainers have pinned their workers to, so that a second trainer
/// takes the CPUs the first leaves free instead of the same ones (packed placement always starts
/// at the first allowed CPU). Pinning never changes the arithmetic, only where it runs.
enum CPUClaims {
    /// CPU → workers pinned there, over every live trainer of the process, behind an NSLock
    /// (pthread-based, so ThreadSanitizer sees it; Synchronization.Mutex's futex is invisible to
    /// it, and it reported two trainers built at once as a race).
    private final class Held: @unchecked Sendable {
        let lock = NSLock()
        var counts: [Int: Int] = [:]
        func withLock<Result>(_ body: (inout [Int: Int]) -> Result) -> Result {
            lock.lock()
            defer { lock.unlock() }
            return body(&counts)
        }
    }
    private static let held = Held()

    /// `preferred` (one CPU per worker, in placement order) spread over the CPUs of `allowed`
    /// that other trainers leave free (see `assign`); claimed until `release`. `shared` says
    /// whether two of these workers share a CPU: their barriers must not spin then.
    static func claim(_ preferred: [Int], allowed: [Int]) -> (cpus: [Int], shared: Bool) {
        held.withLock { held in
            let chosen = assign(preferred, allowed: allowed, held: held)
            // Only this trainer's own doubling-up counts: another trainer holding a CPU may well be
            // idle (a benchmark keeps several alive and runs one at a time), and a barrier that
            // stops spinning for it would cost every step.
            let shared = Set(chosen).count < chosen.count
            for cpu in chosen { held[cpu, default: 0] += 1 }
            return (chosen, shared)
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

    /// The choice itself, for a given state of the claims: a preferred CPU that no one holds,
    /// this request included, is kept; any other is swapped for the least-loaded allowed CPU
    /// (others' workers plus this request's so far; the first in `allowed` on a tie) — so two
    /// workers share a CPU only when every allowed CPU already has one.
    static func assign(_ preferred: [Int], allowed: [Int], held: [Int: Int]) -> [Int] {
        var mine: [Int: Int] = [:]
        var chosen: [Int] = []
        for cpu in preferred {
            var pick = cpu
            if held[cpu, default: 0] + mine[cpu, default: 0] > 0,
               let least = allowed.min(by: { held[$0, default: 0] + mine[$0, default: 0] < held[$1, default: 0] + mine[$1, default: 0] }) {
                pick = least
            }
            mine[pick, default: 0] += 1
            chosen.append(pick)
        }
        return chosen
    }
}
