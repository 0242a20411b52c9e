import ArgumentParser
import Foundation
import Lockstep

/// `lockstep export MODEL --onnx OUT`: the model as ONNX, for ONNX Runtime and every toolchain
/// that reads it.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a saved model as ONNX (opset 17): raw features in, logits and probabilities out, as `lockstep predict` computes them.")

    @Argument(help: "A model file written by `lockstep train`.")
    var model: String
    @Option(help: "Write the ONNX model here (written to a temporary name, then renamed).")
    var onnx: String

    func validate() throws {
        do {
            try FileIdentity.checkDistinct(inputs: [("the model", model)], outputs: [("--onnx", onnx)])
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        do {
            _ = try OutputTarget(onnx)
            let saved = try ModelArgument.load(model)
            let bytes = try saved.onnx()
            try AtomicFile.write(Data(bytes), to: onnx)
            Console.error("\(onnx): ONNX opset 17, \(saved.document.spec.summary), \(bytes.count) bytes")
        } catch {
            throw failure(error)
        }
    }
}
