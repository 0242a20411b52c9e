import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// mapping each tensor's name to its dtype, shape and byte range, an optional `__metadata__` of
/// strings, then the tensors' bytes, little-endian and row-major, with no gaps.
///
/// The reader checks everything before it allocates for the data: header length bounded and
/// inside the file, valid JSON, known dtypes, byte ranges inside the data area, ordered, without
/// overlap or gap, and each shape's byte count equal to its range.
///
/// ```swift
/// var file = SafeTensors(metadata: ["format": "pt"])
/// file.append("0.weight", Tensor([[1, 2]]))
/// try file.write(to: "model.safetensors")
/// let back = try SafeTensors.read(at: "model.safetensors")
/// try back.tensor("0.weight")                 // [[1, 2]]
/// ```
public struct SafeTensors: Sendable {
    /// An element type, by the format's name ("F32", "BF16").
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
        case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"
        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64, .u64: return 8
            case .f32, .i32, .u32: return 4
            case .f16, .bf16, .i16, .u16: return 2
            case .i8, .u8, .bool: return 1
            }
        }
    }

    /// One tensor of the file, its bytes as stored.
    public struct Entry: Sendable, Equatable {
        /// The tensor's name ("0.weight").
        public var name: String
        /// The element type.
        public var dtype: DType
        /// The dimensions, outermost first; [] for a scalar.
        public var shape: [Int]
        /// Little-endian, row-major bytes.
        public var bytes: Data
    }

    /// The tensors, in file order.
    public private(set) var entries: [Entry] = []
    /// The `__metadata__` strings ("format": "pt", Lockstep's JSON documents).
    public var metadata: [String: String]
    /// The file these tensors were read from (named in errors), if any.
    public var source: String?

    /// The largest header the reader accepts.
    public static let maximumHeaderBytes = 100 << 20

    /// An empty file with `metadata`.
    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds a Float32 tensor.
    public mutating func append(_ name: String, _ tensor: Tensor) {
        tensor.withUnsafeBufferPointer { append(name, floats: $0, shape: tensor.shape.dimensions) }
    }

    /// Adds raw Float32 values with a shape (optimizer state, flat buffers).
    public mutating func append(_ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int]) {
        var bytes = Data(count: floats.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in floats.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        }
        append(Entry(name: name, dtype: .f32, shape: shape, bytes: bytes))
    }

    /// Adds Int64 values with a shape (PyTorch's integer buffers, such as `num_batches_tracked`).
    public mutating func append(_ name: String, integers: [Int64], shape: [Int]) {
        var bytes = Data(count: integers.count * 8)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in integers.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: 8 * i, as: Int64.self) }
        }
        append(Entry(name: name, dtype: .i64, shape: shape, bytes: bytes))
    }

    /// Adds a tensor as stored; its name must be new and its bytes must fit its shape and dtype.
    public mutating func append(_ entry: Entry) {
        precondition(entry.name != "__metadata__" && !entries.contains { $0.name == entry.name }, "duplicate tensor name \(entry.name)")
        precondition(entry.bytes.count == entry.shape.reduce(1, *) * entry.dtype.size, "bytes do not match shape")
        entries.append(entry)
    }

    /// The tensor named `name`, if any.
    public subscript(name: String) -> Entry? { entries.first { $0.name == name } }

    /// The tensors' names, in file order.
    public var names: [String] { entries.map(\.name) }

    /// The tensor `name` as Float32 (F32 as is, F64 rounded, I64 exactly when |v| ≤ 2²⁴).
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = self[name] else { throw FileError(path: source ?? name, "no tensor named '\(name)'") }
        // A Lockstep tensor has at most 4 dimensions, each below 2^31; the product of the non-zero
        // ones must not overflow (Shape multiplies them whatever a zero among them).
        guard e.shape.count <= 4 else {
            throw FileError(path: source ?? name, "tensor '\(name)' has \(e.shape.count) dimensions \(e.shape); Lockstep reads at most 4")
        }
        var product = 1
        for d in e.shape where d != 0 {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard d > 0, d <= Int(Int32.max), !overflow else {
                throw FileError(path: source ?? name, "tensor '\(name)' has shape \(e.shape), too large for a Lockstep tensor")
            }
            product = p
        }
        let count = e.shape.reduce(1, *)
        let shape = e.shape.isEmpty ? Shape.scalar : Shape(e.shape)
        var values = [Float](repeating: 0, count: count)
        e.bytes.withUnsafeBytes { raw in
            switch e.dtype {
            case .f32: for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .f64: for i in 0..<count { values[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .i64: for i in 0..<count { values[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            default: break
            }
        }
        if e.dtype == .i64, let big = values.first(where: { abs($0) > 16_777_216 }) {
            throw FileError(path: source ?? name, "tensor '\(name)' holds the integer \(Int64(big)), beyond what Lockstep keeps exactly (2^24)")
        }
        guard e.dtype == .f32 || e.dtype == .f64 || e.dtype == .i64 else {
            throw FileError(path: source ?? name, "tensor '\(name)' is \(e.dtype.rawValue), not a floating-point type Lockstep reads")
        }
        return Tensor(values, shape: shape)
    }

    // MARK: JSON documents in the metadata

    /// Stores `document` as JSON (sorted keys) under the metadata key `key`.
    public mutating func setDocument<Document: Encodable>(_ document: Document, forKey key: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        metadata[key] = String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    /// The JSON document under the metadata key `key`; `missing` is the error when it is absent.
    /// `path` names the file in errors.
    public func document<Document: Decodable>(_ type: Document.Type, forKey key: String, path: String,
                                              missing: String) throws -> Document {
        guard let json = metadata[key] else { throw FileError(path: path, missing) }
        do { return try JSONDecoder().decode(type, from: Data(json.utf8)) } catch {
            throw FileError(path: path, "the metadata '\(key)' cannot be read: \(error)")
        }
    }

    // MARK: Writing

    /// The file's bytes.
    public func serialized() throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for e in entries {
            header[e.name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]]
            offset += e.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        while json.count % 8 != 0 { json.append(0x20) }   // the spec allows trailing spaces; 8-byte aligned data
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for e in entries { out.append(e.bytes) }
        return out
    }

    /// Writes the file atomically (temporary file, flush, rename, flush the directory).
    public func write(to path: String) throws {
        try AtomicFile.write(serialized(), to: path)
    }

    // MARK: Reading

    /// Reads and validates the file at `path`; throws `FileError` when it is missing or malformed.
    public static func read(at path: String) throws -> SafeTensors {
        if let missing = MissingFile.reason(path) { throw FileError(path: path, missing) }
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(path: path, "cannot be read") }
        return try parse(data, name: path)
    }

    /// Parses and validates a file's bytes; `name` appears in errors.
    public static func parse(_ data: Data, name: String) throws -> SafeTensors {
        func fail(_ message: String) -> FileError { FileError(path: name, message) }
        guard data.count >= 8 else { throw fail("\(data.count) bytes is too short for a safetensors file (not safetensors?)") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(maximumHeaderBytes) else {
            throw fail("header length \(headerLength) exceeds the \(maximumHeaderBytes >> 20) MB limit (not safetensors?)")
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("header length \(headerLength) runs past the end of the file (\(data.count) bytes): truncated?")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: data.startIndex + 8 ..< data.startIndex + headerEnd)
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var file = SafeTensors()
        file.source = name
        if let meta = header["__metadata__"] {
            guard let strings = meta as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            file.metadata = strings
        }
        let dataArea = data.count - headerEnd
        var spans: [(name: String, start: Int, end: Int, dtype: DType, shape: [Int])] = []
        // By name: a dictionary's order changes from process to process, and so would the tensor
        // a damaged file's error names.
        for (tensorName, value) in header.sorted(by: { $0.key < $1.key }) where tensorName != "__metadata__" {
            guard let info = value as? [String: Any] else { throw fail("tensor '\(tensorName)': not a JSON object") }
            guard let dtypeName = info["dtype"] as? String, let dtype = DType(rawValue: dtypeName) else {
                throw fail("tensor '\(tensorName)': unknown dtype '\(info["dtype"].map { "\($0)" } ?? "missing")'")
            }
            guard let shapeValues = info["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(tensorName)': shape must be a list of non-negative integers")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
                throw fail("tensor '\(tensorName)': data_offsets must be two integers")
            }
            let (start, end) = (offsets[0], offsets[1])
            guard start >= 0, start <= end, end <= dataArea else {
                throw fail("tensor '\(tensorName)': data_offsets [\(start), \(end)] out of range of the \(dataArea)-byte data area")
            }
            var needed = dtype.size
            for d in shape {
                let (product, overflow) = needed.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("tensor '\(tensorName)': shape \(shape) is too large") }
                needed = product
            }
            guard needed == end - start else {
                throw fail("tensor '\(tensorName)': shape \(shape) of \(dtype.rawValue) needs \(needed) bytes, data_offsets span \(end - start)")
            }
            spans.append((tensorName, start, end, dtype, shape))
        }
        spans.sort { ($0.start, $0.end, $0.name) < ($1.start, $1.end, $1.name) }
        var position = 0
        for span in spans {
            if span.start < position {
                let previous = spans.last { $0.end > span.start && $0.name != span.name }!
                throw fail("tensors '\(previous.name)' and '\(span.name)' overlap in the data area")
            }
            if span.start > position {
                throw fail("gap in the data area: bytes \(position)..<\(span.start) before tensor '\(span.name)' belong to no tensor")
            }
            position = span.end
        }
        if position != dataArea {
            throw fail("\(dataArea - position) bytes after the last tensor belong to no tensor")
        }
        for span in spans {
            let bytes = data.subdata(in: data.startIndex + headerEnd + span.start ..< data.startIndex + headerEnd + span.end)
            file.entries.append(Entry(name: span.name, dtype: span.dtype, shape: span.shape, bytes: bytes))
        }
        return file
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), abs(n.doubleValue) < 9e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }
}
