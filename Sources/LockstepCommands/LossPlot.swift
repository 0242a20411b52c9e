import Foundation
import Lockstep

/// The `--plot` file: an SVG with two panels, loss per epoch (train, validation, test) and the
/// task's metric (test and validation accuracy, or R²), with axes, ticks, labels and a legend.
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
        body += panel(losses, title: "Loss", x: 60, y: 50, yLabel: "loss")
        body += panel(metrics, title: "Test " + metricName, x: 560, y: 50, yLabel: metricName)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="1000" height="440" viewBox="0 0 1000 440" font-family="sans-serif" font-size="12">
            <rect width="1000" height="440" fill="white"/>
            <text x="500" y="24" text-anchor="middle" font-size="16">\(escape(title))</text>
            \(body)</svg>

            """
    }

    /// One chart of `width` × `height` at (x, y), with its axes, ticks and legend.
    private static func panel(_ series: [Series], title: String, x: Double, y: Double, yLabel: String) -> String {
        let width = 380.0, height = 300.0
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return "" }
        let (x0, x1) = (all.map(\.x).min()!, max(all.map(\.x).max()!, all.map(\.x).min()! + 1))
        var (y0, y1) = (all.map(\.y).min()!, all.map(\.y).max()!)
        if y1 - y0 < 1e-9 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        func px(_ v: Double) -> Double { x + (v - x0) / (x1 - x0) * width }
        func py(_ v: Double) -> Double { y + height - (v - y0) / (y1 - y0) * height }
        var s = "<g class=\"panel\">\n"
        s += "<text x=\"\(x + width / 2)\" y=\"\(y - 12)\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n"
        s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#333\"/>\n"
        for i in 0...4 {
            let vy = y0 + (y1 - y0) * Double(i) / 4, vx = x0 + (x1 - x0) * Double(i) / 4
            s += "<line x1=\"\(x - 5)\" y1=\"\(py(vy))\" x2=\"\(x)\" y2=\"\(py(vy))\" stroke=\"#333\"/>"
            s += "<text x=\"\(x - 8)\" y=\"\(py(vy) + 4)\" text-anchor=\"end\">\(String(format: "%.3g", vy))</text>\n"
            s += "<line x1=\"\(px(vx))\" y1=\"\(y + height)\" x2=\"\(px(vx))\" y2=\"\(y + height + 5)\" stroke=\"#333\"/>"
            s += "<text x=\"\(px(vx))\" y=\"\(y + height + 18)\" text-anchor=\"middle\">\(String(format: "%.0f", vx))</text>\n"
        }
        s += "<text x=\"\(x + width / 2)\" y=\"\(y + height + 36)\" text-anchor=\"middle\">epoch</text>\n"
        s += "<text x=\"\(x - 48)\" y=\"\(y + height / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 \(x - 48) \(y + height / 2))\">\(escape(yLabel))</text>\n"
        for (i, line) in series.enumerated() {
            let points = line.points.map { String(format: "%.2f,%.2f", px($0.x), py($0.y)) }.joined(separator: " ")
            s += "<polyline class=\"series\" data-name=\"\(escape(line.name))\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            let ly = y + 16 + Double(i) * 18
            s += "<line x1=\"\(x + width - 150)\" y1=\"\(ly - 4)\" x2=\"\(x + width - 130)\" y2=\"\(ly - 4)\" stroke=\"\(line.color)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(x + width - 124)\" y=\"\(ly)\">\(escape(line.name))</text>\n"
        }
        return s + "</g>\n"
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
