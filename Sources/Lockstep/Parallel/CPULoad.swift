import Foundation

extension Topology {
    /// The same machine with each node's CPUs ordered least busy first, measured from
    /// `/proc/stat` over `seconds`: two runs started side by side then pin to different CPUs
    /// instead of both to CPU 0. Ties keep CPU order, so an idle machine gives the usual
    /// placement. Where `/proc/stat` cannot be read, the topology is returned as it is.
    ///
    /// ```swift
    /// let topology = Topology.current().orderedByLoad()
    /// ```
    public func orderedByLoad(seconds: Double = 0.03) -> Topology {
        guard let first = Self.cpuTimes() else { return self }
        usleep(useconds_t(seconds * 1e6))
        guard let second = Self.cpuTimes() else { return self }
        func busy(_ cpu: Int) -> Double {
            guard let a = first[cpu], let b = second[cpu], b.total > a.total else { return 0 }
            return Double(b.busy - a.busy) / Double(b.total - a.total)
        }
        // Coarse buckets, so that noise between idle CPUs does not reorder them.
        let ordered = nodes.map { node in node.sorted { (Int(busy($0) * 4), $0) < (Int(busy($1) * 4), $1) } }
        return Topology(nodes: ordered, nodeIDs: nodeIDs)
    }

    /// Jiffies per CPU from /proc/stat: (busy, total).
    private static func cpuTimes() -> [Int: (busy: Int, total: Int)]? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        var result: [Int: (busy: Int, total: Int)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
            let fields = line.split(separator: " ")
            guard let cpu = Int(fields[0].dropFirst(3)) else { continue }
            let values = fields.dropFirst().compactMap { Int($0) }
            guard values.count >= 5 else { continue }
            let total = values.reduce(0, +), idle = values[3] + values[4]
            result[cpu] = (total - idle, total)
        }
        return result.isEmpty ? nil : result
    }
}
