import Foundation
import Testing
@testable import Lockstep

/// Each layer against numbers PyTorch printed for the same weights and inputs
/// (`Scripts/torch-layer-reference.py` → Fixtures/torch-layers.json): forward values, the input's
/// and the parameters' gradients of sum(y · r), and batch norm's running statistics after the
/// step — norm-wise ‖a − b‖ / ‖b‖ ≤ 1e-5.
@Suite struct LayersMatchPyTorch {
    struct Entry: Decodable { let shape: [Int]; let values: [Float] }
    struct Case: Decodable {
        let name: String
        let layer: LayerSpec?
        let module: String?
        let input: [Float], input_shape: [Int]
        let state: [String: Entry]
        let r: [Float]
        let output: [Float], output_shape: [Int]
        let grad_input: [Float]
        let grads: [String: [Float]]
        let state_after: [String: [Float]]
    }
    struct Reference: Decodable { let torch: String; let cases: [Case] }

    static let reference: Reference = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: fixture("torch-layers.json")))
        return try! JSONDecoder().decode(Reference.self, from: data)
    }()

    static let names = reference.cases.map(\.name)

    func close(_ a: [Float], _ b: [Float], _ what: String, _ name: String) {
        #expect(a.count == b.count, "\(name) \(what): \(a.count) values, PyTorch \(b.count)")
        guard a.count == b.count else { return }
        let difference = relativeDifference(a, b)
        #expect(difference <= 1e-5, "\(name) \(what): relative difference \(difference)")
    }

    @Test(arguments: names)
    func layer(_ name: String) throws {
        let c = Self.reference.cases.first { $0.name == name }!
        let module = c.layer?.makeModule() ?? Self.sequenceModule(c.module ?? "")
        try module.loadStateDict(c.state.mapValues { Tensor($0.values, shape: $0.shape.isEmpty ? .scalar : Shape($0.shape)) })
        let tape = Tape()
        let x = Parameter(name: "x", shape: Shape(c.input_shape))
        x.assign(Tensor(c.input, shape: Shape(c.input_shape)))
        for p in module.parameters { p.grad.update(repeating: 0, count: p.count) }
        let y = module(tape.parameter(x))
        #expect(tape.failure == nil, "\(name): \(tape.failure ?? "")")
        #expect(y.shape == Shape(c.output_shape), "\(name): output \(y.shape), PyTorch \(c.output_shape)")
        close(y.scalars, c.output, "output", name)
        (y * tape.input(Tensor(c.r, shape: y.shape))).sum().backward()
        close(x.gradient.scalars, c.grad_input, "input gradient", name)
        for (parameterName, parameter) in module.namedParameters {
            close(parameter.gradient.scalars, c.grads[parameterName] ?? [], "gradient of \(parameterName)", name)
        }
        for (bufferName, buffer) in module.namedBuffers where c.state_after[bufferName] != nil {
            close(buffer.tensor.scalars, c.state_after[bufferName]!, bufferName, name)
        }
    }

    @Test func theReferenceCoversEveryLayerKindWithATensorOrAWindow() {
        #expect(Set(Self.reference.cases.compactMap(\.layer?.typeName)) == [
            "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "flatten", "identity", "batch_norm1d", "batch_norm2d",
            "embedding", "layer_norm",
        ])
        #expect(Self.reference.torch.hasPrefix("2.15"))
    }

    /// The sequence-model pieces, built as the reference script's modules of the same names.
    static func sequenceModule(_ name: String) -> any Module {
        switch name {
        case "softmax_axis1": return Lambda { $0.softmax(axis: 1) }
        case "log_softmax_last": return Lambda { $0.logSoftmax(axis: -1) }
        case "bmm": return Lambda(Parameter(name: "other", shape: Shape(2, 4, 3))) { $0.batchedMatmul($1!) }
        case "bmm_transposed": return Lambda(Parameter(name: "other", shape: Shape(2, 3, 4))) { $0.batchedMatmul($1!, transposeB: true) }
        case "mha": return MultiheadAttention(8, heads: 2)
        case "mha_causal": return MultiheadAttention(8, heads: 2, causal: true)
        case "transformer_block": return TransformerBlock(8, heads: 2, hidden: 16)
        case "positions": return PositionalEmbedding(5, 8)
        case "cross_entropy_sequence":
            return Lambda { x in
                let (n, t, v) = (x.shape[0], x.shape[1], x.shape[2])
                let targets = Tensor((0..<(n * t)).map { Float((3 * ($0 / t) + $0 % t) % v) }, shape: Shape(n, t))
                return x.crossEntropyLoss(x.tape.input(targets), divisor: Float(n))
            }
        default: preconditionFailure("no module named \(name)")
        }
    }

    /// A module made of a closure and at most one parameter.
    final class Lambda: Module {
        let parameter: Parameter?
        let body: (Variable, Variable?) -> Variable
        init(_ parameter: Parameter? = nil, _ body: @escaping (Variable, Variable?) -> Variable) {
            self.parameter = parameter
            self.body = body
        }
        convenience init(_ body: @escaping (Variable) -> Variable) { self.init(nil) { x, _ in body(x) } }
        var parameters: [Parameter] { parameter.map { [$0] } ?? [] }
        func forward(_ x: Variable) -> Variable { body(x, parameter.map { x.tape.parameter($0) }) }
    }
}
