import Testing
@testable import Lockstep

/// A module of the caller's own: layers as properties, a forward with a residual add.
private final class Residual: Module {
    let fc1 = Linear(4, 4), fc2 = Linear(4, 4)
    var children: [(name: String, module: any Module)] { [("fc1", fc1), ("fc2", fc2)] }
    func forward(_ x: Variable) -> Variable { x + fc2(fc1(x).relu()) }
}

/// A module with a parameter of its own beside its children.
private final class Scaled: Module {
    let gain = Parameter(name: "gain", shape: Shape(4))
    let block = Residual()
    var parameters: [Parameter] { [gain] }
    var children: [(name: String, module: any Module)] { [("block", block)] }
    func forward(_ x: Variable) -> Variable { block(x) * x.tape.parameter(gain) }
    func resetParameters(using generator: inout RandomGenerator) {
        Kernels.fill(gain.value, gain.count, 1)
        block.resetParameters(using: &generator)
    }
}

/// Modules are open: any class with parameters, children and a forward is one, and its state
/// is named as PyTorch's state_dict names it.
@Suite struct OpenModules {
    @Test func aModuleNamesItsChildrensParametersWithDots() {
        #expect(Residual().namedParameters.map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        #expect(Scaled().namedParameters.map(\.name)
                == ["gain", "block.fc1.weight", "block.fc1.bias", "block.fc2.weight", "block.fc2.bias"])
        #expect(Scaled().parameterCount == 4 + 2 * (16 + 4))
    }

    @Test func aSequentialOfOwnAndBuiltinModulesPrefixesTheLayerIndex() throws {
        let model = Sequential([Linear(2, 4), Scaled(), ReLU(), Linear(4, 1)], seed: 7)
        #expect(model.stateDict().keys.sorted() == [
            "0.bias", "0.weight", "1.block.fc1.bias", "1.block.fc1.weight", "1.block.fc2.bias", "1.block.fc2.weight",
            "1.gain", "3.bias", "3.weight"])
        #expect(model.modelSpec == nil)   // a layer of the caller's own has no built-in description
        #expect(model.description.contains("Scaled"))
        // Nested, the Sequential's own names are the prefix's tail.
        let outer = Sequential([model], seed: 7)
        #expect(outer.stateDict()["0.1.gain"] != nil)
    }

    @Test func aModelOfBuiltinLayersHasItsArchitectureAsAValue() {
        let model = ModelSpec.mlp(inputs: 3, hidden: [5], outputs: 2).build(seed: 1)
        #expect(model.modelSpec == .mlp(inputs: 3, hidden: [5], outputs: 2))
    }

    @Test func gradientsReachEveryParameterThroughAResidualForward() throws {
        let model = Sequential([Scaled(), Linear(4, 1)], seed: 3)
        let tape = Tape()
        let x = tape.input(Tensor([[0.5, -1, 2, 0.25], [1, 1, -0.5, 0]]))
        let loss = model(x).sum()
        model.zeroGrad()
        loss.backward()
        for (name, parameter) in model.namedParameters {
            let norm = (0..<parameter.count).reduce(Float(0)) { $0 + abs(parameter.grad[$1]) }
            #expect(norm > 0, "no gradient reached \(name)")
        }
    }
}
