/// An impossible training configuration (a bad flag or argument).
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, as shown to the user.
    public var description: String
    /// An error with the message `description`.
    public init(_ description: String) { self.description = description }
}
