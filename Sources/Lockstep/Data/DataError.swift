/// A problem with input data, located as precisely as possible: `file:line:column: message`.
public struct DataError: Error, Equatable, CustomStringConvertible {
    /// The file (or the operation, as "split") the problem is in.
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// The 1-based column, when known.
    public var column: Int?
    /// What is wrong.
    public var message: String

    /// An error at `file`, and at `line` and `column` when given.
    public init(file: String, line: Int? = nil, column: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var location = PathText.printable(file)
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return "\(location): \(message)"
    }
}
