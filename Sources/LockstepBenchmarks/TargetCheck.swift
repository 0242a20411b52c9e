/// One of DESIGN.md §5's targets checked against a benchmark's figures, as `lockstep bench --json`
/// prints it under "targets": e.g. mlp-large's oversubscription, 8 workers ÷ 2 = 0.77 against ≥ 0.75.
public struct TargetCheck: Sendable, Encodable, Equatable {
    /// The workload it is about ("mlp-large").
    public var workload: String
    /// What is measured: "scaling", "oversubscription" or "communication".
    public var measure: String
    /// The figure: a ratio, or a fraction of step time for "communication".
    public var value: Double
    /// The bar it is held to.
    public var target: Double
    /// Whether `value` must stay at or below `target` (communication) rather than reach it.
    public var atMost: Bool
    /// The line the text report prints, before its verdict ("met" or "MISSED").
    public var line: String

    /// Whether the figure meets its target.
    public var met: Bool { atMost ? value <= target : value >= target }

    private enum CodingKeys: String, CodingKey { case workload, measure, value, target, atMost, met }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workload, forKey: .workload)
        try c.encode(measure, forKey: .measure)
        try c.encode(value, forKey: .value)
        try c.encode(target, forKey: .target)
        try c.encode(atMost, forKey: .atMost)
        try c.encode(met, forKey: .met)
    }
}
