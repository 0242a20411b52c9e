import Foundation

extension ModelSpec {
    /// The largest architecture file read: a description, never data.
    static let maxFileBytes = 1 << 20

    /// An architecture from a JSON file holding the `model` object of a model document —
    /// `{"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "in": 1, "out": 16, "kernel": 3}, …]}`
    /// — checked (`validate()`) before it is returned; errors name the file and the layer.
    ///
    /// ```swift
    /// let spec = try ModelSpec.read(at: "cnn.json")
    /// ```
    public static func read(at path: String) throws -> ModelSpec {
        let bytes: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            bytes = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw FileError(path: path, "cannot read the model description: \((error as NSError).localizedDescription)")
        }
        guard bytes.count <= maxFileBytes else { throw FileError(path: path, "more than \(maxFileBytes) bytes: not a model description") }
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: bytes)
        } catch let error as DecodingError {
            throw FileError(path: path, "not a model description: " + Self.explain(error))
        } catch {
            throw FileError(path: path, "not a model description: \(error)")
        }
        do { try spec.validate() } catch { throw FileError(path: path, "\(error)") }
        return spec
    }

    /// "layers[2]: key 'kernel' is missing", "layers[0].type: unknown layer type 'conv3d'".
    private static func explain(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case let .keyNotFound(key, context): return "\(path(context.codingPath)): key '\(key.stringValue)' is missing"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            let place = path(context.codingPath)
            return (place.isEmpty ? "" : place + ": ") + context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
