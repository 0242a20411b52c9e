/// How well a model does on a data set (pillar 5): the loss, and accuracy for classification or
/// R², MAE and RMSE for regression.
public struct Metrics: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Rows evaluated.
    public var count: Int
    /// The mean loss per row.
    public var loss: Float
    /// The fraction of rows classified correctly, in [0, 1] (classification only).
    public var accuracy: Float?
    /// Coefficient of determination, averaged over outputs (scikit-learn's `r2_score`).
    public var r2: Float?
    /// Mean absolute error over all outputs, in the targets' original units (regression only).
    public var mae: Float?
    /// Root mean squared error over all outputs, in the targets' original units (regression only).
    public var rmse: Float?
    /// Rows: true class, columns: predicted class (classification, when asked for).
    public var confusionMatrix: [[Int]]?

    public var description: String {
        var parts = ["loss \(formatted(loss))"]
        if let accuracy { parts.insert("accuracy \(formatted(accuracy * 100, digits: 1))%", at: 0) }
        if let r2 { parts.insert("R² \(formatted(r2))", at: 0) }
        if let mae { parts.append("MAE \(formatted(mae))") }
        if let rmse { parts.append("RMSE \(formatted(rmse))") }
        return parts.joined(separator: " · ")
    }
}

func formatted(_ x: Float, digits: Int = 4) -> String {
    guard x.isFinite else { return String(x) }
    var scale: Float = 1
    for _ in 0..<digits { scale *= 10 }
    let rounded = (x * scale).rounded() / scale
    return String(rounded)
}

/// Running sums from which `Metrics` are computed, batch by batch.
struct MetricAccumulator {
    let task: LearningTask
    let outputs: Int
    var rows = 0
    var lossSum: Double = 0
    var correct = 0
    var absoluteError: Double = 0
    var squaredError: [Double]
    var targetSum: [Double]
    var targetSquares: [Double]
    var confusion: [[Int]]?
    /// Per output (mean, std) to undo a standardization of regression targets before comparing.
    var scale: (mean: [Double], std: [Double])?

    init(task: LearningTask, outputs: Int, confusionMatrix: Bool = false) {
        if confusionMatrix && task == .classification {
            confusion = Array(repeating: Array(repeating: 0, count: max(outputs, 2)), count: max(outputs, 2))
        }
        self.task = task
        self.outputs = outputs
        squaredError = Array(repeating: 0, count: outputs)
        targetSum = Array(repeating: 0, count: outputs)
        targetSquares = Array(repeating: 0, count: outputs)
    }

    /// Adds a batch: predictions [rows, outputs] and its targets (class indices or values).
    mutating func add(predictions: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>, rows batchRows: Int) {
        rows += batchRows
        switch task {
        case .classification:
            for r in 0..<batchRows {
                // One output is a binary logit (BCE): class 1 when positive.
                var best = outputs == 1 && predictions[r] > 0 ? 1 : 0
                for c in 1..<max(outputs, 1) where predictions[r * outputs + c] > predictions[r * outputs + best] { best = c }
                let truth = Int(targets[r])
                if best == truth { correct += 1 }
                if confusion != nil, truth < confusion!.count { confusion![truth][best] += 1 }
            }
        case .regression:
            for r in 0..<batchRows {
                for c in 0..<outputs {
                    var p = Double(predictions[r * outputs + c]), t = Double(targets[r * outputs + c])
                    if let scale {
                        p = p * scale.std[c] + scale.mean[c]
                        t = t * scale.std[c] + scale.mean[c]
                    }
                    absoluteError += abs(p - t)
                    squaredError[c] += (p - t) * (p - t)
                    targetSum[c] += t
                    targetSquares[c] += t * t
                }
            }
        }
    }

    var metrics: Metrics {
        let n = Double(max(rows, 1))
        var m = Metrics(count: rows, loss: Float(lossSum / n))
        switch task {
        case .classification:
            m.accuracy = Float(Double(correct) / n)
            m.confusionMatrix = confusion
        case .regression:
            let elements = n * Double(outputs)
            m.mae = Float(absoluteError / elements)
            m.rmse = Float((squaredError.reduce(0, +) / elements).squareRoot())
            var r2: Double = 0
            for c in 0..<outputs {
                let total = targetSquares[c] - targetSum[c] * targetSum[c] / n
                r2 += total > 0 ? 1 - squaredError[c] / total : (squaredError[c] == 0 ? 1 : 0)
            }
            m.r2 = Float(r2 / Double(outputs))
        }
        return m
    }
}
