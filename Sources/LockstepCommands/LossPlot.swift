import Foundation
import Lockstep

/// The `--plot` file: an SVG with two panels, loss per epoch (train, validation, test) and the
/// task's metric (validation and test accuracy, or R²), with axes, round tick values, labels,
/// and a legend under each panel, where it covers no curve.
enum LossPlot {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
    }

    static func svg(history: [EpochReport], task: LearningTask, title: String) -> String {
        func series(_ name: String, _ color: String, _ value: (EpochReport) -> Float?) -> Series? {
            let points = history.compactMap { r in value(r).map { (Double(r.epoch + 1), Double($0)) } }.filter { $0.1.isFinite }
            return points.isEmpty ? nil : Series(name: name, color: color, points: points)
        }
        let losses = [
            series("train loss", "#1f77b4") { $0.trainLoss },
            series("validation loss", "#ff7f0e") { $0.validation?.loss },
            series("test loss", "#2ca02c") { $0.test?.loss },
        ].compactMap { $0 }
        let metricName = task == .classification ? "accuracy" : "R²"
        let metric: (Metrics) -> Float? = task == .classification ? { $0.accuracy } : { $0.r2 }
        let metrics = [
            series("validation " + metricName, "#ff7f0e") { $0.validation.flatMap(metric) },
            series("test " + metricName, "#2ca02c") { $0.test.flatMap(metric) },
        ].compactMap { $0 }
        var body = ""
        body += panel(losses, title: "Loss per epoch", x: 70, y: 50, yLabel: "loss")
        body += panel(metrics, title: metricTitle(metrics.map(\.name), metric: metricName), x: 570, y: 50, yLabel: metricName)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="1000" height="470" viewBox="0 0 1000 470" font-family="sans-serif" font-size="12">
            <rect width="1000" height="470" fill="white"/>
            <text x="500" y="24" text-anchor="middle" font-size="16">\(escape(title))</text>
            \(body)</svg>

            """
    }

    /// "Validation accuracy", "Test R²", or "Accuracy: validation and test": what the panel holds.
    static func metricTitle(_ names: [String], metric: String) -> String {
        let splits = names.map { String($0.prefix { $0 != " " }) }
        if splits.count == 1 { return splits[0].prefix(1).uppercased() + splits[0].dropFirst() + " " + metric }
        return metric.prefix(1).uppercased() + metric.dropFirst() + ": " + splits.joined(separator: " and ")
    }

    /// Round tick values covering `low…high`: about `count` steps of 1, 2 or 5 × 10ⁿ, starting and
    /// ending on a multiple of the step (0.05, 0.10, 0.15 — never 0.0519, 0.335).
    static func ticks(_ low: Double, _ high: Double, count: Int = 5, integers: Bool = false) -> [Double] {
        let span = max(high - low, integers ? 1 : 1e-9)
        let raw = span / Double(max(count, 1))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        var step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integers { step = max(step.rounded(), 1) }
        let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// A tick's label: as many decimals as the step needs, and no more.
    static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, Int((-log10(step)).rounded(.up)))
        return String(format: "%.\(decimals)f", abs(value) < step / 2 ? 0 : value)
    }

    /// One chart of `width` × `height` at (x, y), with its axes, ticks, and the legend below it.
    private static func panel(_ series: [Series], title: String, x: Double, y: Double, yLabel: String) -> String {
        let width = 380.0, height = 300.0
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return "" }
        let xTicks = ticks(all.map(\.x).min()!, all.map(\.x).max()!, integers: true)
        let yTicks = ticks(all.map(\.y).min()!, all.map(\.y).max()!)
        let (x0, x1) = (xTicks.first!, xTicks.last!), (y0, y1) = (yTicks.first!, yTicks.last!)
        let yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        func px(_ v: Double) -> Double { x + (v - x0) / (x1 - x0) * width }
        func py(_ v: Double) -> Double { y + height - (v - y0) / (y1 - y0) * height }
        var s = "<g class=\"panel\">\n"
        s += "<text x=\"\(x + width / 2)\" y=\"\(y - 12)\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n"
        s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#333\"/>\n"
        for vy in yTicks {
            s += "<line x1=\"\(x - 5)\" y1=\"\(py(vy))\" x2=\"\(x)\" y2=\"\(py(vy))\" stroke=\"#333\"/>"
            s += "<text x=\"\(x - 8)\" y=\"\(py(vy) + 4)\" text-anchor=\"end\">\(label(vy, step: yStep))</text>\n"
        }
        for vx in xTicks {
            s += "<line x1=\"\(px(vx))\" y1=\"\(y + height)\" x2=\"\(px(vx))\" y2=\"\(y + height + 5)\" stroke=\"#333\"/>"
            s += "<text x=\"\(px(vx))\" y=\"\(y + height + 18)\" text-anchor=\"middle\">\(label(vx, step: 1))</text>\n"
        }
        s += "<text x=\"\(x + width / 2)\" y=\"\(y + height + 36)\" text-anchor=\"middle\">epoch</text>\n"
        s += "<text x=\"\(x - 55)\" y=\"\(y + height / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 \(x - 55) \(y + height / 2))\">\(escape(yLabel))</text>\n"
        var legendX = x
        for line in series {
            let points = line.points.map { String(format: "%.2f,%.2f", px($0.x), py($0.y)) }.joined(separator: " ")
            s += "<polyline class=\"series\" data-name=\"\(escape(line.name))\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            let ly = y + height + 60
            s += "<line x1=\"\(legendX)\" y1=\"\(ly - 4)\" x2=\"\(legendX + 20)\" y2=\"\(ly - 4)\" stroke=\"\(line.color)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(legendX + 26)\" y=\"\(ly)\">\(escape(line.name))</text>\n"
            legendX += 36 + Double(line.name.count) * 7
        }
        return s + "</g>\n"
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
