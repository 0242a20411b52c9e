import Foundation
import Testing
@testable import Lockstep

@Suite struct ModelsFollowPyTorchSequential {
    @Test func parameterNamesAndShapesAreThoseOfTheStateDict() {
        let model = Sequential(seed: 0) {
            Linear(4, 64)
            ReLU()
            Linear(64, 3)
        }
        #expect(model.parameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(model.parameters.map(\.shape) == [Shape(64, 4), Shape(64), Shape(3, 64), Shape(3)])
        #expect(model.parameterCount == 4 * 64 + 64 + 64 * 3 + 3)
        #expect(model.description == "Sequential(Linear(4→64), ReLU, Linear(64→3))")
    }

    @Test func parametersAreViewsIntoOneAlignedFlatBuffer() {
        let model = ModelSpec.mlp(inputs: 3, hidden: [5], outputs: 2).build()
        let base = model.store.values.base
        #expect(Int(bitPattern: base) % 64 == 0)
        for p in model.parameters {
            #expect(p.value == base + p.offset)
            #expect(p.grad == model.store.gradients.base + p.offset)
            #expect(p.offset % 16 == 0)
        }
    }

    @Test func linearInitFollowsPyTorchsBounds() {
        let model = Sequential(seed: 5) { Linear(100, 50) }
        let bound = 1 / Float(100).squareRoot()
        let w = model.parameters[0].tensor.scalars, b = model.parameters[1].tensor.scalars
        #expect(w.allSatisfy { abs($0) <= bound } && b.allSatisfy { abs($0) <= bound })
        // U(−k, k) has standard deviation k/√3.
        let std = (w.map { Double($0 * $0) }.reduce(0, +) / Double(w.count)).squareRoot()
        #expect(abs(std - Double(bound) / 3.0.squareRoot()) < 0.01 * Double(bound))
    }

    @Test func theSameSeedBuildsTheSameWeights() {
        let spec = ModelSpec.mlp(inputs: 4, hidden: [8], outputs: 3)
        #expect(spec.build(seed: 1).stateDict() == spec.build(seed: 1).stateDict())
        #expect(spec.build(seed: 1).stateDict() != spec.build(seed: 2).stateDict())
    }

    @Test func stateDictRoundTrips() throws {
        let spec = ModelSpec.mlp(inputs: 4, hidden: [8], outputs: 3)
        let a = spec.build(seed: 1), b = spec.build(seed: 2)
        try b.loadStateDict(a.stateDict())
        #expect(b.stateDict() == a.stateDict())
    }

    @Test func loadStateDictNamesWhatDoesNotFit() {
        let model = ModelSpec.mlp(inputs: 4, hidden: [8], outputs: 3).build()
        var state = model.stateDict()
        state["0.weight"] = Tensor(zeros: Shape(8, 5))
        #expect(throws: ModelError.shapeMismatch("0.weight", expected: Shape(8, 4), got: Shape(8, 5))) { try model.loadStateDict(state) }
        state = model.stateDict()
        state.removeValue(forKey: "2.bias")
        #expect(throws: ModelError.missingParameter("2.bias")) { try model.loadStateDict(state) }
        state = model.stateDict()
        state["9.weight"] = Tensor([1])
        #expect(throws: ModelError.unexpectedParameter("9.weight")) { try model.loadStateDict(state) }
    }

    @Test func specsRoundTripThroughJSON() throws {
        let spec = ModelSpec(layers: [.linear(inFeatures: 4, outFeatures: 8, bias: true), .gelu, .dropout(0.1),
                                      .layerNorm(features: 8, eps: 1e-5), .linear(inFeatures: 8, outFeatures: 1, bias: false)])
        let decoded = try JSONDecoder().decode(ModelSpec.self, from: JSONEncoder().encode(spec))
        #expect(decoded == spec)
        #expect(decoded.build(seed: 3).modelSpec == spec)
        #expect(spec.inputFeatures == 4 && spec.outputFeatures == 1)
    }

    @Test func layerNormStartsAsPureNormalization() {
        let model = Sequential { LayerNorm(4) }
        let tape = Tape(mode: .inference)
        let y = model(tape.input(Tensor([[1, 2, 3, 4]]))).scalars
        #expect(abs(y.reduce(0, +)) < 1e-5)
        #expect(abs(y.map { $0 * $0 }.reduce(0, +) / 4 - 1) < 1e-3)
    }

    @Test func dropoutIsTheIdentityOnAnInferenceTape() {
        let model = Sequential { Dropout(0.5) }
        let x = Tensor([[1, 2, 3, 4]])
        #expect(model(Tape(mode: .inference).input(x)).scalars == x.scalars)
        let trained = model(Tape(mode: .training).input(Tensor(ones: Shape(1, 1000)))).scalars
        #expect(trained.allSatisfy { $0 == 0 || $0 == 2 })
        #expect(abs(Float(trained.filter { $0 == 0 }.count) / 1000 - 0.5) < 0.07)
    }

    /// Stale gradients (zeroing without a memory pass) give what eager zeroing gives, for a
    /// parameter used twice and for one the backward never reaches.
    @Test func staleGradientsAreOverwrittenOrZeroed() {
        let model = Sequential(seed: 1) {
            Linear(3, 3)
            Tanh()
            Linear(3, 3)
        }
        let unused = model.parameters[3]   // "2.bias": not reached below
        func gradients(stale: Bool) -> [Float] {
            for p in model.parameters { Kernels.fill(p.grad, p.count, 7) }   // leftovers of an earlier step
            if stale { model.store.markGradientsStale() } else { model.zeroGrad() }
            let tape = Tape()
            let x = tape.input(Tensor([[1, -2, 0.5], [0.3, 0.1, -1]]))
            let first = model.layers[0] as! Linear
            let h = x.linear(weight: tape.parameter(first.weight), bias: tape.parameter(first.bias!)).tanh()
            let y = h.linear(weight: tape.parameter(first.weight), bias: nil)   // the same weight again
            let w2 = (model.layers[2] as! Linear).weight
            (y.linear(weight: tape.parameter(w2), bias: nil) * y).sum().backward()
            if stale { model.store.zeroStaleGradients() }
            return Array(model.store.gradients.buffer)
        }
        let eager = gradients(stale: false), lazy = gradients(stale: true)
        #expect(bits(lazy) == bits(eager))
        #expect(unused.gradient.scalars == [0, 0, 0])
    }

    @Test func inferenceRecordsNothing() {
        let model = ModelSpec.mlp(inputs: 2, hidden: [3], outputs: 1).build()
        let tape = Tape(mode: .inference)
        _ = model(tape.input(Tensor([[1, 2]])))
        #expect(tape.operationCount == 0)
        let training = Tape()
        _ = model(training.input(Tensor([[1, 2]])))
        #expect(training.operationCount == 3)
    }
}

/// Convolutional architectures as values (issue 10): the JSON the issue names, its defaults, and
/// shapes checked through the layers.
@Suite struct ConvolutionalArchitectures {
    @Test func theIssuesJSONDecodesWithItsDefaultsAndRoundTrips() throws {
        let json = """
            {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "in": 1, "out": 16, "kernel": 3, "padding": 1}, {"type": "relu"},
             {"type": "max_pool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "in": 256, "out": 10}]}
            """
        let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
        #expect(spec.inputShape == [1, 8, 8])
        #expect(spec.layers[0] == .conv2d(inChannels: 1, outChannels: 16, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true))
        #expect(spec.layers[2] == .maxPool2d(kernel: 2, stride: 2))
        try spec.validate()
        #expect(try spec.checkedParameterCount() == 16 * 9 + 16 + 256 * 10 + 10)
        #expect(try JSONDecoder().decode(ModelSpec.self, from: JSONEncoder().encode(spec)) == spec)
        let model = spec.build(seed: 1)
        #expect(model.modelSpec == spec && model.inputFeatures == 64)
        // Flat rows go in: the model reshapes them to its input shape.
        #expect(try Evaluator.predict(model, Tensor(zeros: Shape(3, 64))).shape == Shape(3, 10))
    }

    @Test func anMLPWithoutInputShapeEncodesAsBefore() throws {
        let text = String(decoding: try JSONEncoder().encode(ModelSpec.mlp(inputs: 4, hidden: [8], outputs: 3)), as: UTF8.self)
        #expect(!text.contains("input_shape"))
    }

    @Test(arguments: [
        (ModelSpec(layers: [.conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true)],
                   inputShape: [1, 8, 8]), "layer 0 (conv2d) takes 3 channels, but the layer before gives 1 (samples [1, 8, 8])"),
        (ModelSpec(layers: [.maxPool2d(kernel: 9, stride: 9)], inputShape: [1, 8, 8]), "layer 0 (max_pool2d): a 9×9 window does not fit samples of [1, 8, 8]"),
        (ModelSpec(layers: [.conv2d(inChannels: 2, outChannels: 3, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 2, bias: true)],
                   inputShape: [2, 4, 4]), "layer 0 (conv2d): 'groups' 2 must divide 'in' 2 and 'out' 3"),
        (ModelSpec(layers: [.linear(inFeatures: 64, outFeatures: 2, bias: true)], inputShape: [1, 8, 8]),
         "layer 0 (linear) takes 64 features, but the layer before gives samples of shape [1, 8, 8] (flatten them first)"),
        (ModelSpec(layers: [.flatten, .linear(inFeatures: 4, outFeatures: 2, bias: true)], inputShape: [0, 2]), "'input_shape' is [0, 2]"),
        // Sizes whose product overflows Int (it trapped in the review of issue 14), or only exceeds the limit.
        (ModelSpec(layers: [.flatten, .linear(inFeatures: 4, outFeatures: 2, bias: true)], inputShape: [2147483647, 2147483647, 2147483647]),
         "'input_shape' is [2147483647, 2147483647, 2147483647]: more than 9223372036854775807 values a sample; at most 2147483647"),
        (ModelSpec(layers: [.flatten, .linear(inFeatures: 4, outFeatures: 2, bias: true)], inputShape: [1, 65536, 65536]),
         "'input_shape' is [1, 65536, 65536]: 4294967296 values a sample; at most 2147483647"),
    ])
    func shapesThatDoNotFitAreNamedByLayer(spec: ModelSpec, message: String) {
        #expect { try spec.validate() } throws: { "\($0)".hasPrefix(message) }
    }
}
