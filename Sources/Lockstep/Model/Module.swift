/// A layer or model: parameters registered once, a forward pass on a tape.
///
/// As in PyTorch, a module is called like a function; the tape comes with its input.
///
/// ```swift
/// let layer = Linear(4, 3)
/// let y = layer(tape.input(x))    // [batch, 4] → [batch, 3]
/// ```
public protocol Module: AnyObject {
    /// This module's parameters, in registration order.
    var parameters: [Parameter] { get }
    /// The forward pass, recorded on the input's tape.
    func forward(_ input: Variable) -> Variable
    /// Draws fresh initial values (PyTorch's `reset_parameters`) from `generator`.
    func resetParameters(using generator: inout RandomGenerator)
    /// The architecture of this module, for files and for building replicas.
    var spec: LayerSpec { get }
}

extension Module {
    public func callAsFunction(_ input: Variable) -> Variable { forward(input) }
    public var parameters: [Parameter] { [] }
    public func resetParameters(using generator: inout RandomGenerator) {}
    /// Number of scalars in the parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}
