/// How `lockstep eval` shows a confusion matrix: a table whose columns fit the widest label and
/// count, or, past `maxClasses` classes (where a table stops being readable), one line per class
/// with its count, recall and precision.
enum ConfusionTable {
    static let maxClasses = 20

    static func lines(_ matrix: [[Int]], labels: [String]) -> [String] {
        let k = matrix.count
        let names = (0..<k).map { $0 < labels.count ? labels[$0] : String($0) }
        if k > maxClasses {
            var lines = ["per class (\(k) classes): rows, recall, precision"]
            let width = names.map(\.count).max() ?? 1
            for c in 0..<k {
                let rows = matrix[c].reduce(0, +), predicted = matrix.reduce(0) { $0 + $1[c] }
                let recall = rows > 0 ? String(format: "%.1f%%", Double(matrix[c][c]) / Double(rows) * 100) : "–"
                let precision = predicted > 0 ? String(format: "%.1f%%", Double(matrix[c][c]) / Double(predicted) * 100) : "–"
                lines.append(pad(names[c], width) + "  \(rows) rows · recall \(recall) · precision \(precision)")
            }
            return lines
        }
        let width = max(names.map(\.count).max() ?? 1, matrix.joined().map { String($0).count }.max() ?? 1, 5)
        var lines = ["confusion matrix (rows: true class, columns: predicted):"]
        lines.append(String(repeating: " ", count: width + 2) + names.map { pad($0, width) }.joined(separator: " "))
        for (name, row) in zip(names, matrix) {
            lines.append(pad(name, width + 2) + row.map { pad(String($0), width) }.joined(separator: " "))
        }
        return lines
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
