/// Runs a model over a data set without recording anything (pillar 5).
///
/// ```swift
/// let metrics = try Evaluator.evaluate(model, on: split.test, loss: CrossEntropyLoss())
/// print(metrics.accuracy!)     // fraction of rows whose largest logit is the true class
/// ```
public enum Evaluator {
    /// Loss and metrics of `model` on `data`, in batches of `batchSize` rows (at least 1) on an inference tape.
    /// `confusionMatrix` adds counts of (true class, predicted class) for classification.
    /// `targetScaling`, the standardization of regression targets, is undone for MAE, RMSE and R².
    /// Throws `ConfigurationError` when the data does not fit the model (its shape, its targets).
    public static func evaluate(_ model: Sequential, on data: Dataset, loss: any Loss, batchSize: Int = 512,
                                confusionMatrix: Bool = false, targetScaling: Standardizer? = nil,
                                tape: Tape = Tape(mode: .inference)) throws -> Metrics {
        guard tape.mode == .inference else { throw ConfigurationError("evaluation needs an inference tape") }
        try data.checkContents("evaluated")
        // The outputs a prediction has, from the first batch's (a module of the caller's own does
        // not say); the model's own count when there is no row.
        var accumulator: MetricAccumulator?
        func makeAccumulator(_ outputs: Int) throws -> MetricAccumulator {
            guard data.task == .classification || data.targetWidth == outputs else {
                throw ConfigurationError("regression targets are \(data.targetWidth) wide, the model gives \(outputs) outputs")
            }
            if data.task == .classification, outputs > 1, data.classLabels.count > outputs {
                throw ConfigurationError("the data has \(data.classLabels.count) classes, the model gives \(outputs) outputs")
            }
            var made = MetricAccumulator(task: data.task, outputs: outputs, confusionMatrix: confusionMatrix)
            if data.task == .regression, let targetScaling, targetScaling.mean.count == outputs {
                made.scale = (targetScaling.mean.map(Double.init), targetScaling.std.map(Double.init))
            }
            return made
        }
        let width = data.targetWidth
        try forEachBatch(model, data.features, batchSize: batchSize, tape: tape) { start, rows, prediction in
            if accumulator == nil { accumulator = try makeAccumulator(prediction.shape.columns) }
            let target = data.targets.withUnsafeBufferPointer { y in
                tape.input(rows == 0 ? Shape(0) : (data.targets.shape.rank == 1 ? Shape(rows) : Shape(rows, width))) { dst in
                    Kernels.copy(y.baseAddress! + start * width, dst.baseAddress!, rows * width)
                }
            }
            let value = loss(prediction, target, divisor: 1)
            if let failure = tape.failure { throw ConfigurationError("the data does not fit the model: \(failure)") }
            accumulator!.lossSum += Double(value.item)
            data.targets.withUnsafeBufferPointer { y in
                accumulator!.add(predictions: UnsafeBufferPointer(prediction.data),
                                 targets: UnsafeBufferPointer(rebasing: y[(start * width)..<((start + rows) * width)]), rows: rows)
            }
        }
        return try (accumulator ?? makeAccumulator(model.outputFeatures ?? data.outputCount)).metrics
    }

    /// The model's outputs for every row of `features` [rows, features] → [rows, outputs].
    /// Throws `ConfigurationError` when the rows do not fit the model.
    public static func predict(_ model: Sequential, _ features: Tensor, batchSize: Int = 512,
                               tape: Tape = Tape(mode: .inference)) throws -> Tensor {
        var out: [Float] = []
        var outputs = 0
        try forEachBatch(model, features, batchSize: batchSize, tape: tape) { _, _, prediction in
            outputs = prediction.shape.columns
            out.append(contentsOf: prediction.data)
        }
        return Tensor(out, shape: Shape(features.shape[0], outputs))
    }

    /// Calls `body(firstRow, rows, prediction)` for each batch; the prediction lives on `tape`
    /// until the next batch. A `batchSize` below 1 counts as 1 (it would never advance).
    static func forEachBatch(_ model: Sequential, _ features: Tensor, batchSize: Int, tape: Tape,
                             _ body: (Int, Int, Variable) throws -> Void) throws {
        let rows = features.shape[0], columns = features.shape.columns
        var start = 0
        while start < rows {
            let n = min(max(batchSize, 1), rows - start)
            tape.reset()
            let x = features.withUnsafeBufferPointer { src in
                tape.input(features.shape.withRows(n)) { dst in Kernels.copy(src.baseAddress! + start * columns, dst.baseAddress!, n * columns) }
            }
            let prediction = model(x)
            if let failure = tape.failure { throw ConfigurationError("the data does not fit the model: \(failure)") }
            guard prediction.shape.rank >= 1, prediction.shape[0] == n else {
                throw ConfigurationError("the model gives \(prediction.shape) for a batch of \(n) rows: one output row per input row is needed")
            }
            try body(start, n, prediction)
            start += n
        }
        tape.reset()
    }
}
