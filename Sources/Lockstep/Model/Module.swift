/// A layer or a model: its own parameters, its named children, and a forward pass on a tape.
///
/// A module is identified by what it holds, as in PyTorch: its parameters and children name
/// every tensor of its state (`fc.weight`, `blocks.0.bias`, see `namedParameters`), whatever
/// the module is. Any class with a `forward` of its own is a module — a residual block, two
/// branches, a reshape — and a call runs it, the tape coming with its input.
///
/// ```swift
/// final class Residual: Module {
///     let fc1 = Linear(8, 8), fc2 = Linear(8, 8)
///     var children: [(name: String, module: any Module)] { [("fc1", fc1), ("fc2", fc2)] }
///     func forward(_ x: Variable) -> Variable { x + fc2(fc1(x).relu()) }
/// }
/// Residual().namedParameters.map(\.name)   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
/// ```
public protocol Module: AnyObject {
    /// This module's own parameters (not its children's), in registration order; each named
    /// within the module ("weight", "bias").
    var parameters: [Parameter] { get }
    /// The modules this one holds, in registration order, with the names their parameters take
    /// as a prefix ("fc1", or "0", "1", … in a `Sequential`).
    var children: [(name: String, module: any Module)] { get }
    /// The forward pass, recorded on the input's tape.
    func forward(_ input: Variable) -> Variable
    /// Draws fresh initial values (PyTorch's `reset_parameters`) from `generator`; by default,
    /// the children's, in order.
    func resetParameters(using generator: inout RandomGenerator)
    /// Every parameter of this module and its children, depth first in registration order, with
    /// its PyTorch `state_dict` name: the children's names, dots, the parameter's own name.
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    /// This module's own buffers — state that is not trained, such as running statistics —
    /// named within the module ("running_mean").
    var buffers: [Buffer] { get }
    /// Every buffer of this module and its children, named as `namedParameters` names parameters.
    var namedBuffers: [(name: String, buffer: Buffer)] { get }
}

extension Module {
    /// Runs `forward` on `input` (PyTorch's `module(x)`).
    public func callAsFunction(_ input: Variable) -> Variable { forward(input) }
    public var parameters: [Parameter] { [] }
    public var children: [(name: String, module: any Module)] { [] }

    public func resetParameters(using generator: inout RandomGenerator) {
        for child in children { child.module.resetParameters(using: &generator) }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        parameters.map { ($0.localName, $0) }
            + children.flatMap { child in child.module.namedParameters.map { (child.name + "." + $0.name, $0.parameter) } }
    }

    public var buffers: [Buffer] { [] }

    public var namedBuffers: [(name: String, buffer: Buffer)] {
        buffers.map { ($0.localName, $0) }
            + children.flatMap { child in child.module.namedBuffers.map { (child.name + "." + $0.name, $0.buffer) } }
    }

    /// Number of scalars in the parameters, the children's included.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.count } }
}

/// A module that is one of Lockstep's built-in layer kinds, and so has a serializable
/// description: what model files store and what the CLI and the engine build replicas from.
public protocol BuiltinLayer: Module {
    /// The layer as a value.
    var spec: LayerSpec { get }
}

extension Module {
    /// Copies of the parameters and buffers by PyTorch `state_dict` name.
    ///
    /// ```swift
    /// let state = model.stateDict()
    /// state["0.weight"]!.shape        // [64, 4]
    /// ```
    public func stateDict() -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (name, p) in namedParameters { state[name] = p.tensor }
        for (name, b) in namedBuffers { state[name] = b.tensor }
        return state
    }

    /// Overwrites the parameters and buffers from `state`, strictly (PyTorch's
    /// `load_state_dict(strict=True)`): a missing, extra or mis-shaped tensor, or a parameter
    /// holding NaN or infinity, is named in the error, and nothing is changed unless everything fits.
    public func loadStateDict(_ state: [String: Tensor]) throws {
        let parameters = namedParameters, buffers = namedBuffers
        var expected: [String: Shape] = [:]
        for (name, p) in parameters { expected[name] = p.shape }
        for (name, b) in buffers { expected[name] = b.shape }
        if let extra = state.keys.sorted().first(where: { expected[$0] == nil }) { throw ModelError.unexpectedParameter(extra) }
        for (name, shape) in parameters.map({ ($0.name, $0.parameter.shape) }) + buffers.map({ ($0.name, $0.buffer.shape) }) {
            guard let t = state[name] else { throw ModelError.missingParameter(name) }
            guard t.shape == shape else {
                throw ModelError.shapeMismatch(name, expected: shape, got: t.shape)
            }
        }
        for (name, _) in parameters where !state[name]!.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) {
            throw ModelError.notFinite(name)
        }
        for (name, b) in buffers { try state[name]!.withUnsafeBufferPointer { try b.check($0) } }
        for (name, p) in parameters { p.assign(state[name]!) }
        for (name, b) in buffers { b.assign(state[name]!) }
    }
}
