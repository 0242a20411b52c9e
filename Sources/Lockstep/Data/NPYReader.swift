import Foundation

/// Reader for NumPy's `.npy` format (version 1–3): 2-D float32 or float64 arrays, little-endian,
/// C order. The header is validated before any data is read or allocated.
public enum NPY {
    /// The array in `path` as a Float tensor [rows, columns].
    public static func read(at path: String) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError(file: path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        return try parse(data, name: path)
    }

    /// Parses the bytes of an `.npy` file; `name` appears in errors.
    public static func parse(_ data: Data, name: String) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw DataError(file: name, "not an .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw DataError(file: name, "truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw DataError(file: name, "unsupported .npy version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw DataError(file: name, "header length past the end of the file") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)

        guard let descr = value(of: "descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) else {
            throw DataError(file: name, "header has no 'descr'")
        }
        let width: Int
        switch descr {
        case "<f4", "=f4": width = 4
        case "<f8", "=f8": width = 8
        default: throw DataError(file: name, "dtype '\(descr)' is not supported (float32 or float64, little-endian)")
        }
        if let order = value(of: "fortran_order", in: header), order.hasPrefix("True") {
            throw DataError(file: name, "Fortran-ordered arrays are not supported")
        }
        guard let shapeText = value(of: "shape", in: header), shapeText.hasPrefix("(") else {
            throw DataError(file: name, "header has no 'shape'")
        }
        let dims = shapeText.dropFirst().prefix { $0 != ")" }.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Int($0) }
        guard dims.count == 2, let rows = dims[0], let columns = dims[1], rows >= 0, columns >= 0 else {
            throw DataError(file: name, "shape \(shapeText) is not a 2-D array")
        }
        // Every size is computed with overflow checks: a header may claim any shape.
        guard rows <= Int(Int32.max), columns <= Int(Int32.max) else {
            throw DataError(file: name, "shape (\(rows), \(columns)) is too large: each dimension must be below 2^31")
        }
        let start = headerStart + headerLength
        let (count, countOverflow) = rows.multipliedReportingOverflow(by: columns)
        let (needed, neededOverflow) = count.multipliedReportingOverflow(by: width)
        guard !countOverflow, !neededOverflow else {
            throw DataError(file: name, "shape (\(rows), \(columns)) is too large: its size overflows")
        }
        guard bytes.count - start == needed else {
            throw DataError(file: name, "data holds \(bytes.count - start) bytes, shape (\(rows), \(columns)) needs \(needed)")
        }
        var t = Tensor(zeros: Shape(rows, columns))
        t.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBytes { raw in
                for i in 0..<count {
                    if width == 4 {
                        out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self).littleEndian)
                    } else {
                        out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self).littleEndian))
                    }
                }
            }
        }
        return t
    }

    /// The text after `'key':` in a header dict, up to the next top-level comma.
    private static func value(of key: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(key)':") else { return nil }
        let rest = header[r.upperBound...].drop { $0 == " " }
        if rest.hasPrefix("(") { return String(rest.prefix { $0 != ")" }) + ")" }
        return String(rest.prefix { $0 != "," && $0 != "}" })
    }
}

extension Dataset {
    /// Reads a 2-D `.npy` array whose last column is the target.
    public static func readNPY(at path: String, task: LearningTask? = nil) throws -> Dataset {
        let table = try NPY.read(at: path)
        let rows = table.shape[0], columns = table.shape[1]
        guard columns >= 2 else { throw DataError(file: path, "needs at least one feature column and a target column") }
        guard rows > 0 else { throw DataError(file: path, "no data rows") }
        let values = table.scalars
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw DataError(file: path, "row \(bad / columns + 1), column \(bad % columns + 1): not a finite number")
        }
        var features = [Float](), targets = [Float]()
        for r in 0..<rows {
            features.append(contentsOf: values[(r * columns)..<(r * columns + columns - 1)])
            targets.append(values[r * columns + columns - 1])
        }
        let resolved = task ?? LearningTask.infer(numericTargets: targets)
        if resolved == .classification {
            let (indices, labels) = encodeClasses(targets)
            return try Dataset(features: Tensor(features, shape: Shape(rows, columns - 1)), targets: indices,
                           task: .classification, classLabels: labels)
        }
        return try Dataset(features: Tensor(features, shape: Shape(rows, columns - 1)),
                       targets: Tensor(targets, shape: Shape(rows, 1)), task: .regression)
    }
}
