/// Evaluation of any data source — windows of a token file, samples made on the fly — where
/// `Evaluator.evaluate` takes a `Dataset`.
extension Evaluator {
    /// The mean loss of `model` over every sample of `data`, in batches of `batchSize` samples on
    /// an inference tape: Σ of the samples' losses ÷ their count (for a sequence loss, the mean
    /// over every position of every sample). A source without samples is refused.
    ///
    /// ```swift
    /// let validationLoss = try Evaluator.meanLoss(trainer.model, on: validation, loss: CrossEntropyLoss())
    /// ```
    public static func meanLoss(_ model: Sequential, on data: any DataSource, loss: any Loss, batchSize: Int = 64,
                                tape: Tape = Tape(mode: .inference)) throws -> Float {
        guard tape.mode == .inference else { throw ConfigurationError("evaluation needs an inference tape") }
        let count = data.count, size = max(batchSize, 1)
        guard count > 0 else { throw ConfigurationError("there are no samples to evaluate: a mean loss of nothing is not 0") }
        var rows = [Int](repeating: 0, count: min(size, max(count, 0)))
        var sum = 0.0, start = 0
        while start < count {
            let n = min(size, count - start)
            for i in 0..<n { rows[i] = start + i }
            tape.reset()
            let targetShape = data.targetBatchShape(rows: n)
            let targets = tape.arena.allocate(max(targetShape.count, 1), zeroed: false)
            let x = rows.withUnsafeBufferPointer { all in
                tape.input(data.batchShape(rows: n)) {
                    data.gather(UnsafeBufferPointer(rebasing: all[0..<n]), features: $0.baseAddress!, targets: targets)
                }
            }
            let value = loss(model(x), tape.leaf(data: targets, grad: nil, shape: targetShape), divisor: 1)
            if let failure = tape.failure { throw ConfigurationError("the data does not fit the model: \(failure)") }
            sum += Double(value.item)
            start += n
        }
        return Float(sum / Double(count))
    }
}
