import Foundation

/// Reader for NumPy's `.npy` format (version 1–3): arrays of 1 to 4 dimensions, little-endian,
/// C order, of float32 or float64, or of integers (int8…int64, uint8…uint64: class indices, token
/// ids, pixels), read as Floats — integers exactly up to 2²⁴. The header is validated before any
/// data is read or allocated.
public enum NPY {
    /// The array in `path` as a Float tensor of its own shape.
    public static func read(at path: String) throws -> Tensor { try readTyped(at: path).tensor }

    /// The array in `path`, and whether its elements were integers.
    static func readTyped(at path: String) throws -> (tensor: Tensor, integer: Bool) {
        let file = try MappedFile(path: path)
        return try parseTyped(file.bytes, name: path)
    }

    /// The element types read, by their `descr` without the byte order: bytes and whether integer.
    private static let types: [String: (width: Int, integer: Bool, signed: Bool)] = [
        "f4": (4, false, true), "f8": (8, false, true),
        "i1": (1, true, true), "i2": (2, true, true), "i4": (4, true, true), "i8": (8, true, true),
        "u1": (1, true, false), "u2": (2, true, false), "u4": (4, true, false), "u8": (8, true, false),
    ]

    /// Parses the bytes of an `.npy` file; `name` appears in errors.
    public static func parse(_ data: Data, name: String) throws -> Tensor {
        try data.withUnsafeBytes { try parseTyped($0.bindMemory(to: UInt8.self), name: name).tensor }
    }

    /// What an `.npy` header says, checked against the file's size: the element type, the shape,
    /// and where the data begins.
    struct Header {
        var type: (width: Int, integer: Bool, signed: Bool)
        var dims: [Int]
        /// The byte offset of the first element.
        var start: Int
        /// Elements in all (the shape's product, checked).
        var count: Int
        /// Whether the elements are float32 in this machine's order and aligned, so the bytes are
        /// the values.
        var isNativeFloat: Bool { type.width == 4 && !type.integer && start % 4 == 0 && 1.littleEndian == 1 }
    }

    /// `parse` of bytes (a mapped file's, read in place), and whether the elements were integers.
    static func parseTyped(_ bytes: UnsafeBufferPointer<UInt8>, name: String) throws -> (tensor: Tensor, integer: Bool) {
        let header = try header(bytes, name: name)
        return (try values(bytes, header, name: name), header.type.integer)
    }

    /// Reads and checks the header of the `.npy` file whose bytes are `bytes`; refuses any shape
    /// whose size overflows or disagrees with the file's length, before anything is allocated.
    static func header(_ bytes: UnsafeBufferPointer<UInt8>, name: String) throws -> Header {
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
        // '<' little-endian, '|' not applicable (one byte), '=' native (little-endian here).
        guard let order = descr.first, "<|=".contains(order), let type = types[String(descr.dropFirst())],
              order != "|" || type.width == 1 else {
            throw DataError(file: name, "dtype '\(descr)' is not supported (float32, float64 or integers, little-endian)")
        }
        if let order = value(of: "fortran_order", in: header), order.hasPrefix("True") {
            throw DataError(file: name, "Fortran-ordered arrays are not supported")
        }
        guard let shapeText = value(of: "shape", in: header), shapeText.hasPrefix("(") else {
            throw DataError(file: name, "header has no 'shape'")
        }
        let parsed = shapeText.dropFirst().prefix { $0 != ")" }.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Int($0) }
        guard (1...4).contains(parsed.count), parsed.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw DataError(file: name, "shape \(shapeText) is not an array of 1 to 4 dimensions")
        }
        let dims = parsed.map { $0! }
        // Every size is computed with overflow checks: a header may claim any shape.
        guard dims.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw DataError(file: name, "shape \(shapeText) is too large: each dimension must be below 2^31")
        }
        let start = headerStart + headerLength
        var count = 1, overflow = false
        for d in dims {
            let (c, o) = count.multipliedReportingOverflow(by: d)
            count = c
            overflow = overflow || o
        }
        let (needed, neededOverflow) = count.multipliedReportingOverflow(by: type.width)
        guard !overflow, !neededOverflow, count <= Int(Int32.max) else {
            throw DataError(file: name, "shape \(shapeText) is too large: its size overflows")
        }
        guard bytes.count - start == needed else {
            throw DataError(file: name, "data holds \(bytes.count - start) bytes, shape \(shapeText) needs \(needed)")
        }
        return Header(type: type, dims: dims, start: start, count: count)
    }

    /// The elements `header` describes, converted to Floats in a tensor of its shape.
    static func values(_ bytes: UnsafeBufferPointer<UInt8>, _ header: Header, name: String) throws -> Tensor {
        let (type, start, count) = (header.type, header.start, header.count)
        let needed = type.width * count
        var inexact: Int?
        let t = Tensor(shape: Shape(header.dims)) { out in
            let raw = UnsafeRawBufferPointer(bytes)
            if type.width == 4, !type.integer, count > 0 {
                // float32, little-endian as this machine: the bytes are the values.
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + needed)]))
                for i in 0..<count { out[i] = Float(bitPattern: out[i].bitPattern.littleEndian) }
                return
            }
            do {
                for i in 0..<count {
                    let at = start + type.width * i
                    switch (type.width, type.integer, type.signed) {
                    case (4, false, _): out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                    case (8, false, _): out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian))
                    default:
                        let v = integer(raw, at, type.width, signed: type.signed)
                        if v.magnitude > 1 << 24, inexact == nil { inexact = i }
                        out[i] = Float(v)
                    }
                }
            }
        }
        if let inexact {
            throw DataError(file: name, "element \(inexact) is an integer beyond 2^24, which a Float cannot hold exactly")
        }
        return t
    }

    /// The integer of `width` bytes at `offset`, little-endian; a uint64 above Int64.max reads as
    /// Int64.max (it is refused as inexact either way).
    private static func integer(_ raw: UnsafeRawBufferPointer, _ offset: Int, _ width: Int, signed: Bool) -> Int64 {
        switch (width, signed) {
        case (1, true): return Int64(raw.load(fromByteOffset: offset, as: Int8.self))
        case (1, false): return Int64(raw.load(fromByteOffset: offset, as: UInt8.self))
        case (2, true): return Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
        case (2, false): return Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        case (4, true): return Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        case (4, false): return Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case (8, true): return Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self))
        default: return Int64(clamping: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
        }
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
        let file = try MappedFile(path: path)
        let header = try NPY.header(file.bytes, name: path)
        guard header.dims.count == 2 else {
            throw DataError(file: path, "shape \(Shape(header.dims)) is not a table: a 2-D array holds features and the target in its last "
                            + "column (arrays of samples of another shape: Dataset.readNPY(features:targets:))")
        }
        let rows = header.dims[0], columns = header.dims[1]
        guard columns >= 2 else { throw DataError(file: path, "needs at least one feature column and a target column") }
        guard rows > 0 else { throw DataError(file: path, "no data rows") }
        // float32 rows are read from the mapped file in place; other types are converted first,
        // and the mapping's pages are then let go (the conversion holds the values).
        let table: Tensor? = header.isNativeFloat ? nil : try NPY.values(file.bytes, header, name: path)
        if table != nil { file.release(0..<file.bytes.count) }
        func read(_ values: UnsafeBufferPointer<Float>) throws -> (Tensor, [Float]) {
            // In pieces of at least 64 K rows on the available cores: the fresh pages of the
            // copies are cleared (and the file's mapped) on all of them at once.
            let width = columns - 1, parts = min(ProcessInfo.processInfo.activeProcessorCount, rows / 65536 + 1)
            let firstBad = UnsafeMutableBufferPointer<(feature: Int, target: Int)>.allocate(capacity: parts)
            defer { firstBad.deallocate() }
            nonisolated(unsafe) let source = values.baseAddress!
            nonisolated(unsafe) let bad = firstBad
            var features = Tensor(zeros: Shape(0, width))
            let targets = [Float](unsafeUninitializedCapacity: rows) { y, count in
                nonisolated(unsafe) let y = y.baseAddress!
                features = Tensor(shape: Shape(rows, width)) { out in
                    nonisolated(unsafe) let x = out.baseAddress!
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        let piece = rows * part / parts..<rows * (part + 1) / parts
                        for r in piece {
                            Kernels.copy(source + r * columns, x + r * width, width)
                            y[r] = source[r * columns + width]
                        }
                        // The copies are checked, not the file: another process may write to it meanwhile.
                        let xs = UnsafeBufferPointer(start: x + piece.lowerBound * width, count: piece.count * width)
                        let ys = UnsafeBufferPointer(start: y + piece.lowerBound, count: piece.count)
                        bad[part] = (Kernels.firstIndex(in: xs).map { $0 + piece.lowerBound * width } ?? Int.max,
                                     Kernels.firstIndex(in: ys).map { $0 + piece.lowerBound } ?? Int.max)
                    }
                }
                count = rows
            }
            let feature = firstBad.map(\.feature).min()!, target = firstBad.map(\.target).min()!
            if feature != Int.max || target != Int.max {
                let (row, column) = feature != Int.max ? (feature / width, feature % width) : (target, width)
                throw DataError(file: path, "row \(row + 1), column \(column + 1): not a finite number")
            }
            return (features, targets)
        }
        let (features, targets) = try withExtendedLifetime(file) {
            try table?.withUnsafeBufferPointer(read) ?? UnsafeRawPointer(file.bytes.baseAddress! + header.start)
                .withMemoryRebound(to: Float.self, capacity: header.count) { try read(UnsafeBufferPointer(start: $0, count: header.count)) }
        }
        let resolved = task ?? LearningTask.infer(numericTargets: targets)
        if resolved == .classification {
            let (indices, labels) = encodeClasses(targets)
            return try Dataset(features: features, targets: indices, task: .classification, classLabels: labels)
        }
        return try Dataset(features: features, targets: Tensor(targets, shape: Shape(rows, 1)), task: .regression)
    }
}

extension Dataset {
    /// Samples of any shape from two `.npy` arrays: `features` [N, …] (rank 2 to 4, e.g. images
    /// [N, C, H, W]) keeps its shape, `targets` holds one value or class index per sample ([N])
    /// or k values ([N, k]). Integer targets (or whole-number ones with `task: .classification`)
    /// are classes, labelled by their values; otherwise the task is inferred as for a CSV file.
    ///
    /// ```swift
    /// let images = try Dataset.readNPY(features: "x.npy", targets: "y.npy")   // x: [N, 1, 28, 28], y: [N]
    /// ```
    public static func readNPY(features: String, targets: String, task: LearningTask? = nil) throws -> Dataset {
        let x = try NPY.read(at: features), (y, integer) = try NPY.readTyped(at: targets)
        guard (2...4).contains(x.shape.rank) else {
            throw DataError(file: features, "shape \(x.shape): features are [samples, …] of 2 to 4 dimensions")
        }
        guard (1...2).contains(y.shape.rank), y.shape[0] == x.shape[0] else {
            throw DataError(file: targets, "shape \(y.shape) does not give one target row per sample of \(features) (\(x.shape[0]) samples)")
        }
        guard x.shape[0] > 0 else { throw DataError(file: features, "no samples") }
        if let bad = x.withUnsafeBufferPointer({ Kernels.firstIndex(in: $0) }) {
            throw DataError(file: features, "element \(bad): not a finite number")
        }
        let values = y.scalars
        if let bad = values.withUnsafeBufferPointer({ Kernels.firstIndex(in: $0) }) { throw DataError(file: targets, "element \(bad): not a finite number") }
        let resolved = task ?? (y.shape.rank == 2 && y.shape[1] > 1 ? .regression
                                : integer ? .classification : LearningTask.infer(numericTargets: values))
        if resolved == .classification {
            guard y.shape.rank == 1 || y.shape[1] == 1 else {
                throw DataError(file: targets, "shape \(y.shape): class targets are one index per sample")
            }
            let (indices, labels) = encodeClasses(values)
            return try Dataset(features: x, targets: indices, task: .classification, classLabels: labels)
        }
        return try Dataset(features: x, targets: y.shape.rank == 1 ? y.reshaped(Shape(y.shape[0], 1)) : y, task: .regression)
    }
}
