import CThreading

/// The CPUs this process may use, grouped by NUMA node.
///
/// `current()` reads it through libnuma, falling back to one node of the allowed CPUs when NUMA
/// is unavailable. Tests build topologies by hand to check placement on machines they lack:
///
/// ```swift
/// let twoSockets = Topology(nodes: [[0, 1, 2, 3], [4, 5, 6, 7]])
/// twoSockets.cpus(forWorkers: 4, placement: .spread)   // [0, 4, 1, 5]
/// ```
public struct Topology: Sendable, Equatable, CustomStringConvertible {
    /// CPU numbers of each node, in ascending order; nodes without usable CPUs are left out.
    public var nodes: [[Int]]
    /// The NUMA node number of each entry of `nodes`.
    public var nodeIDs: [Int]

    /// A topology of `nodes` (CPU numbers per NUMA node, none empty); `nodeIDs` default to 0, 1, 2, …
    public init(nodes: [[Int]], nodeIDs: [Int]? = nil) {
        precondition(!nodes.isEmpty && nodes.allSatisfy { !$0.isEmpty }, "a topology needs CPUs")
        self.nodes = nodes
        self.nodeIDs = nodeIDs ?? Array(nodes.indices)
    }

    /// The machine as this process sees it (its CPU affinity mask, grouped by NUMA node).
    public static func current() -> Topology {
        var buffer = [Int32](repeating: 0, count: 4096)
        let n = Int(lockstep_allowed_cpus(&buffer, Int32(buffer.count)))
        let allowed = n > 0 ? buffer[0..<n].map(Int.init) : [0]
        guard NUMA.isAvailable else { return Topology(nodes: [allowed]) }
        var byNode: [Int: [Int]] = [:]
        for cpu in allowed { byNode[NUMA.node(ofCPU: cpu), default: []].append(cpu) }
        let ids = byNode.keys.sorted()
        return Topology(nodes: ids.map { byNode[$0]! }, nodeIDs: ids)
    }

    /// CPUs over all nodes.
    public var cpuCount: Int { nodes.reduce(0) { $0 + $1.count } }

    /// The most workers one process runs: each is a thread with its own replica, so far more than
    /// the CPUs only costs memory and switching.
    public static let maxWorkers = 4096

    /// The CPU for each of `workers` workers. `.packed` fills node by node; `.spread` deals
    /// workers round-robin over the nodes. More workers than CPUs wrap around.
    public func cpus(forWorkers workers: Int, placement: Placement) -> [Int] {
        switch placement {
        case .packed:
            let all = nodes.flatMap { $0 }
            return (0..<workers).map { all[$0 % all.count] }
        case .spread:
            var order: [Int] = []
            let deepest = nodes.map(\.count).max()!
            for i in 0..<deepest { for node in nodes where i < node.count { order.append(node[i]) } }
            return (0..<workers).map { order[$0 % order.count] }
        }
    }

    /// The NUMA node (its ID) that `cpu` belongs to.
    public func node(ofCPU cpu: Int) -> Int {
        for (i, node) in nodes.enumerated() where node.contains(cpu) { return nodeIDs[i] }
        return nodeIDs[0]
    }

    /// "2 NUMA nodes (0: CPUs 0-3, 1: CPUs 4-7)".
    public var description: String {
        let parts = zip(nodeIDs, nodes).map { "\($0): CPUs \(Self.ranges($1))" }
        return "\(nodes.count) NUMA node\(nodes.count == 1 ? "" : "s") (\(parts.joined(separator: "; ")))"
    }

    /// "0-3,8" for [0, 1, 2, 3, 8].
    public static func ranges(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count && cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(i == j ? "\(cpus[i])" : "\(cpus[i])-\(cpus[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}

/// How workers are laid over NUMA nodes.
public enum Placement: String, Sendable, Codable, CaseIterable {
    /// Fill one node's CPUs before the next: workers share caches and memory.
    case packed
    /// Round-robin across nodes: each worker gets more memory bandwidth.
    case spread
}

/// Pins the calling thread to `cpu`; returns false when the system refuses (for example a CPU
/// outside the affinity mask). Training still runs unpinned then.
@discardableResult
public func pinCurrentThread(toCPU cpu: Int) -> Bool {
    lockstep_pin_current_thread(Int32(cpu)) == 0
}
