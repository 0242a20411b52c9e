import Foundation

extension Dataset {
    /// Reads a CSV file with a header row.
    ///
    /// The target is the column named `target`, or the last column. Feature columns must be
    /// numbers. A target column that holds text is read as class labels ("setosa"); a numeric
    /// one follows `task`, or `LearningTask.infer` when `task` is nil. Class labels are sorted (numbers
    /// numerically), and each row's target is the index of its label.
    ///
    /// Errors name the file, line and column: `iris.csv:12:3: empty cell in column 'petal_length'`.
    public static func readCSV(at path: String, target: String? = nil, task: LearningTask? = nil) throws -> Dataset {
        let file = try MappedFile(path: path)
        return try readCSV(bytes: file.bytes, path: path, target: target, task: task, release: file.release)
    }

    /// `readCSV(at:)` of a file's bytes; `fastPath: false` forces the full reader and `chunks`
    /// sets the fast path's pieces (the tests compare them).
    static func readCSV(data: Data, path: String, target: String?, task: LearningTask?, fastPath: Bool = true,
                        chunks: Int? = nil) throws -> Dataset {
        try data.withUnsafeBytes {
            try readCSV(bytes: $0.bindMemory(to: UInt8.self), path: path, target: target, task: task, fastPath: fastPath, chunks: chunks)
        }
    }

    /// `readCSV(at:)` of bytes that stay valid for the call; `release` is handed what has been read.
    static func readCSV(bytes: UnsafeBufferPointer<UInt8>, path: String, target: String?, task: LearningTask?, fastPath: Bool = true,
                        chunks: Int? = nil, release: @escaping @Sendable (Range<Int>) -> Void = { _ in }) throws -> Dataset {
        // The header's own mistakes (a missing target, a repeated name) are refused before any row
        // is read, where the header is plain enough to read alone: the full reader parsed a whole
        // 200 MB file (a minute) before it looked.
        if let (names, _, _) = CSVFastPath.header(bytes) { _ = try checkHeader(names, target: target, path) }
        // The common file, at byte level; anything unusual (and every error) through CSVTable.
        if fastPath, let fast = CSVFastPath(bytes, target: target, chunks: chunks, release: release), let targetIndex = fast.targetIndex {
            let cells = fast.targetCells
            let targets = TargetColumn(numbers: fast.targetValues,
                                       text: { String(decoding: UnsafeBufferPointer(rebasing: bytes[cells[$0]]), as: UTF8.self) },
                                       integer: { CSVFastPath.integer(UnsafeBufferPointer(rebasing: bytes[cells[$0]])) })
            return try assemble(header: fast.header, targetIndex: targetIndex, features: fast.features, targets: targets,
                                lines: fast.lines, path: path, task: task)
        }
        let table = try CSVTable(bytes: bytes, path: path)
        guard let header = table.header else { throw DataError(file: path, "the file is empty") }
        let targetIndex = try checkHeader(header, target: target, path)
        guard !table.rows.isEmpty else { throw DataError(file: path, "no data rows after the header") }

        let featureColumns = header.indices.filter { $0 != targetIndex }
        var features = [Float]()
        features.reserveCapacity(table.rows.count * featureColumns.count)
        var rawTargets: [String] = []
        rawTargets.reserveCapacity(table.rows.count)
        for row in table.rows {
            guard row.fields.count == header.count else {
                throw DataError(file: path, line: row.line,
                                "\(row.fields.count) fields, but the header has \(header.count)")
            }
            for c in featureColumns {
                features.append(try number(row.fields[c], path, row.line, c, header[c]))
            }
            let t = row.fields[targetIndex]
            if t.isEmpty {
                throw DataError(file: path, line: row.line, column: targetIndex + 1, "empty cell in column '\(header[targetIndex])'")
            }
            rawTargets.append(t)
        }
        let targets = TargetColumn(numbers: rawTargets.map { Float($0) }, text: { rawTargets[$0] }, integer: { Int64(rawTargets[$0]) })
        return try assemble(header: header, targetIndex: targetIndex, features: Tensor(features, shape: Shape(table.rows.count, featureColumns.count)),
                            targets: targets, lines: table.rows.map(\.line), path: path, task: task)
    }

    /// A CSV file's target column: `Float(cell)` of every cell, and a cell's text and
    /// `Int64(cell)` when asked.
    private struct TargetColumn {
        var numbers: [Float?]
        var text: (Int) -> String
        var integer: (Int) -> Int64?
    }

    /// The data set from a CSV file's parsed columns: features row-major, the target column, the
    /// line of each row (for errors).
    private static func assemble(header: [String], targetIndex: Int, features: Tensor, targets column: TargetColumn, lines: [Int],
                                 path: String, task: LearningTask?) throws -> Dataset {
        let featureColumns = header.indices.filter { $0 != targetIndex }
        let numeric = column.numbers
        let n = numeric.count
        var targets: Tensor, labels: [String]?, resolvedTask: LearningTask
        // Integer class labels are kept exactly as written (Float32 would merge 16777216 and
        // 16777217), sorted numerically — when every cell is one and the task allows.
        var integers: [Int64] = []
        if task != .regression {
            integers.reserveCapacity(n)
            for i in 0..<n {
                guard let v = column.integer(i) else { integers = []; break }
                integers.append(v)
            }
        }
        if !integers.isEmpty, task == .classification || hasAtMost(20, distinct: integers) {
            let sorted = Set(integers).sorted()
            let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, Float($0)) })
            targets = Tensor(integers.map { index[$0]! })
            labels = sorted.map(String.init)
            resolvedTask = .classification
        } else if let i = numeric.firstIndex(where: { $0 == nil }) {
            guard task != .regression else {
                throw DataError(file: path, line: lines[i], column: targetIndex + 1,
                                "'\(column.text(i))' is not a number, but the task is regression")
            }
            let rawTargets = (0..<n).map(column.text)
            let sorted = Array(Set(rawTargets)).sorted()
            let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, Float($0)) })
            targets = Tensor(rawTargets.map { index[$0]! })
            labels = sorted
            resolvedTask = .classification
        } else {
            let values = numeric.map { $0! }
            for (i, v) in values.enumerated() where !v.isFinite {
                throw DataError(file: path, line: lines[i], column: targetIndex + 1,
                                "'\(column.text(i))' is not a finite number in column '\(header[targetIndex])'")
            }
            resolvedTask = task ?? LearningTask.infer(numericTargets: values)
            if resolvedTask == .classification {
                (targets, labels) = encodeClasses(values)
            } else {
                targets = Tensor(values, shape: Shape(values.count, 1))
                labels = nil
            }
        }
        return try Dataset(features: features, targets: targets, featureNames: featureColumns.map { header[$0] },
                           targetName: header[targetIndex], task: resolvedTask, classLabels: labels)
    }

    /// Whether `values` hold at most `limit` distinct values (stops counting past it).
    private static func hasAtMost(_ limit: Int, distinct values: [Int64]) -> Bool {
        var seen = Set<Int64>()
        for v in values where seen.insert(v).inserted && seen.count > limit { return false }
        return true
    }

    /// Reads a CSV file for a trained model: the `featureNames` columns (in that order, wherever
    /// they stand in the file) and, when the file has it, the `targetName` column — class labels
    /// looked up in `classLabels` for classification. Extra columns are ignored.
    ///
    /// ```swift
    /// let (x, y) = try Dataset.readCSV(at: "new.csv", featureNames: doc.featureNames, targetName: doc.targetName,
    ///                                  task: doc.task, classLabels: doc.classLabels)
    /// ```
    public static func readCSV(at path: String, featureNames: [String], targetName: String, task: LearningTask,
                               classLabels: [String], readTargets: Bool = true) throws -> (features: Tensor, targets: Tensor?) {
        let file = try MappedFile(path: path)
        return try readCSV(bytes: file.bytes, path: path, featureNames: featureNames, targetName: targetName, task: task,
                           classLabels: classLabels, readTargets: readTargets, release: file.release)
    }

    /// `readCSV(at:featureNames:…)` of bytes that stay valid for the call; `fastPath: false`
    /// forces the full reader and `chunks` sets the fast path's pieces (the tests compare them).
    static func readCSV(bytes: UnsafeBufferPointer<UInt8>, path: String, featureNames: [String], targetName: String, task: LearningTask,
                        classLabels: [String], readTargets: Bool, fastPath: Bool = true, chunks: Int? = nil,
                        release: @escaping @Sendable (Range<Int>) -> Void = { _ in }) throws -> (features: Tensor, targets: Tensor?) {
        if fastPath, let fast = CSVFastPath(bytes, chunks: chunks, release: release, layout: { names in
            // Names the full reader refuses, or a missing feature, are its to report.
            guard Set(names).count == names.count, !names.contains("") else { return nil }
            var roles = Array(repeating: CSVFastPath.Role.ignored, count: names.count)
            for (k, name) in featureNames.enumerated() {
                guard let i = names.firstIndex(of: name), roles[i] == .ignored else { return nil }
                roles[i] = .feature(k)
            }
            if readTargets, let t = names.firstIndex(of: targetName) {
                guard roles[t] == .ignored else { return nil }
                roles[t] = .target
            }
            return roles
        }) {
            guard let t = fast.targetIndex else { return (fast.features, nil) }
            let text = { (i: Int) in String(decoding: UnsafeBufferPointer(rebasing: bytes[fast.targetCells[i]]), as: UTF8.self) }
            var targets = [Float]()
            targets.reserveCapacity(fast.lines.count)
            if task == .classification {
                var index: [String: Int] = [:]
                for (k, label) in classLabels.enumerated() where index[label] == nil { index[label] = k }
                for i in fast.lines.indices {
                    // The label as written ("7"), as an integer ("07", "+7"), or as a whole float ("7.0").
                    let field = text(i)
                    let whole = fast.targetValues[i].flatMap { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : nil }
                    guard let k = index[field] ?? Int64(field).flatMap({ index[String($0)] }) ?? whole.flatMap({ index[$0] }) else {
                        throw DataError(file: path, line: fast.lines[i], column: t + 1,
                                        "'\(field)' is not one of the model's classes (\(classLabels.joined(separator: ", ")))")
                    }
                    targets.append(Float(k))
                }
                return (fast.features, Tensor(targets))
            }
            for i in fast.lines.indices {
                let cell = UnsafeBufferPointer(rebasing: bytes[fast.targetCells[i]])
                if let v = fast.targetValues[i], v.isFinite, !cell.contains(UInt8(ascii: "x")), !cell.contains(UInt8(ascii: "X")) {
                    targets.append(v)
                } else {
                    targets.append(try number(text(i), path, fast.lines[i], t, fast.header[t]))
                }
            }
            return (fast.features, Tensor(targets, shape: Shape(targets.count, 1)))
        }
        let table = try CSVTable(bytes: bytes, path: path)
        guard let header = table.header else { throw DataError(file: path, "the file is empty") }
        try checkUnique(header, path)
        var columns: [Int] = []
        for name in featureNames {
            guard let i = header.firstIndex(of: name) else {
                throw DataError(file: path, line: 1, "no column named '\(name)'; the model takes \(featureNames.count) features: "
                                + featureNames.joined(separator: ", "))
            }
            columns.append(i)
        }
        guard !table.rows.isEmpty else { throw DataError(file: path, "no data rows after the header") }
        let targetIndex = readTargets ? header.firstIndex(of: targetName) : nil
        var features = [Float](), targets = [Float]()
        for row in table.rows {
            guard row.fields.count == header.count else {
                throw DataError(file: path, line: row.line, "\(row.fields.count) fields, but the header has \(header.count)")
            }
            for c in columns { features.append(try number(row.fields[c], path, row.line, c, header[c])) }
            guard let t = targetIndex else { continue }
            let field = row.fields[t]
            if task == .classification {
                // The label as written ("7"), as an integer ("07", "+7"), or as a whole float ("7.0").
                let integer = Int64(field).map(String.init)
                let whole = Float(field).flatMap { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : nil }
                guard let k = classLabels.firstIndex(of: field) ?? integer.flatMap({ classLabels.firstIndex(of: $0) })
                        ?? whole.flatMap({ classLabels.firstIndex(of: $0) }) else {
                    throw DataError(file: path, line: row.line, column: t + 1,
                                    "'\(field)' is not one of the model's classes (\(classLabels.joined(separator: ", ")))")
                }
                targets.append(Float(k))
            } else {
                targets.append(try number(field, path, row.line, t, header[t]))
            }
        }
        let x = Tensor(features, shape: Shape(table.rows.count, featureNames.count))
        guard targetIndex != nil else { return (x, nil) }
        return (x, task == .classification ? Tensor(targets) : Tensor(targets, shape: Shape(targets.count, 1)))
    }

    /// Refuses a header that names a column twice: `--target y` could not say which.
    /// Refuses a header a training set cannot come from (names missing or repeated, one column,
    /// no column named `target`); returns the target's column (the last without a name).
    private static func checkHeader(_ header: [String], target: String?, _ path: String) throws -> Int {
        try checkUnique(header, path)
        guard header.count >= 2 else {
            if let separator = [";", "\t", "|"].first(where: { header[0].contains($0) }) {
                throw DataError(file: path, line: 1, "one column only: the file seems to be separated by '\(separator == "\t" ? "\\t" : separator)', "
                                + "but Lockstep reads comma-separated values")
            }
            throw DataError(file: path, line: 1, "a data set needs at least one feature column and a target column")
        }
        guard let target else { return header.count - 1 }
        guard let i = header.firstIndex(of: target) else {
            throw DataError(file: path, line: 1, "no column named '\(target)'; the columns are \(header.joined(separator: ", "))")
        }
        return i
    }

    private static func checkUnique(_ header: [String], _ path: String) throws {
        var seen: [String: Int] = [:]
        for (i, name) in header.enumerated() {
            guard !name.isEmpty else { throw DataError(file: path, line: 1, column: i + 1, "column \(i + 1) has no name") }
            if let first = seen[name] {
                throw DataError(file: path, line: 1, column: i + 1,
                                "column '\(name)' appears twice (columns \(first + 1) and \(i + 1)); column names must be unique")
            }
            seen[name] = i
        }
    }

    private static func number(_ field: String, _ path: String, _ line: Int, _ column: Int, _ name: String) throws -> Float {
        if field.isEmpty {
            throw DataError(file: path, line: line, column: column + 1, "empty cell in column '\(name)'")
        }
        // Swift also reads hexadecimal floats ("0x10") and stops at a NUL: a data file means neither.
        guard let v = Float(field), !field.contains(where: { $0 == "x" || $0 == "X" || $0 == "\0" }) else {
            throw DataError(file: path, line: line, column: column + 1, "'\(field)' is not a number in column '\(name)'")
        }
        guard v.isFinite else {
            throw DataError(file: path, line: line, column: column + 1, "'\(field)' is not a finite number in column '\(name)'")
        }
        return v
    }
}

/// The rows of a CSV file: a header, then records with their line numbers. Fields are trimmed of
/// spaces; double-quoted fields may hold commas and doubled quotes. Blank lines are skipped.
struct CSVTable {
    struct Row { var line: Int; var fields: [String] }
    var header: [String]?
    var rows: [Row] = []

    /// The rows of bytes that stay valid for the call (read in place).
    init(bytes: UnsafeBufferPointer<UInt8>, path: String) throws {
        let data = bytes.baseAddress.map { Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: bytes.count, deallocator: .none) }
        try self.init(data: data ?? Data(), path: path)
    }

    init(data: Data, path: String) throws {
        guard let text = String(data: data, encoding: .utf8) else { throw DataError(file: path, "the file is not UTF-8 text") }
        var lineNumber = 0
        // "\r\n" is one Character in Swift, and a newline like "\n".
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = try Self.fields(of: line, path: path, line: lineNumber)
            if header == nil { header = fields } else { rows.append(Row(line: lineNumber, fields: fields)) }
        }
    }

    private static func fields(of line: Substring, path: String, line number: Int) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false, wasQuoted = false
        var iterator = line.makeIterator()
        while let ch = iterator.next() {
            if quoted {
                if ch == "\"" {
                    // A doubled quote is a literal quote; a single one closes the field.
                    var lookahead = iterator
                    if lookahead.next() == "\"" { current.append("\""); iterator = lookahead } else { quoted = false }
                } else {
                    current.append(ch)
                }
            } else if ch == "," {
                fields.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
                current = ""
                wasQuoted = false
            } else if ch == "\"" && current.trimmingCharacters(in: .whitespaces).isEmpty {
                quoted = true
                wasQuoted = true
                current = ""
            } else {
                current.append(ch)
            }
        }
        if quoted {
            throw DataError(file: path, line: number, column: fields.count + 1,
                            "unterminated quoted field: a closing '\"' is missing (a quoted field cannot span lines)")
        }
        fields.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
        return fields
    }
}
