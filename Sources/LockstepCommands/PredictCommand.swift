import ArgumentParser
import Foundation
import Lockstep

/// `lockstep predict MODEL --data D`: one prediction per row.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with a saved model: one row out (class label or value) per row in, as CSV.")

    @Argument(help: "A model file written by `lockstep train`.")
    var model: String
    @Option(help: "A CSV file with the model's feature columns (the target column may be absent), or an .npy array of the features in order.")
    var data: String
    @Option(help: "Write the predictions here instead of standard output.")
    var output: String?

    func validate() throws {
        guard let output else { return }
        do {
            try FileIdentity.checkDistinct(inputs: [("the model", model), ("--data", data)], outputs: [("--output", output)])
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        do {
            BLAS.useOneThreadPerCall()
            if let output { _ = try OutputTarget(output) }
            let saved = try ModelArgument.load(model)
            let doc = saved.document
            let (features, _) = try Dataset.readRows(at: data, featureNames: doc.featureNames, targetName: doc.targetName,
                                                     task: doc.task, classLabels: doc.classLabels, readTargets: false)
            let predictions = try saved.predictions(for: features)
            let outputs = doc.spec.outputFeatures ?? 1
            let header = doc.task == .regression && outputs > 1
                ? (0..<outputs).map { "\(doc.targetName)_\($0)" }.joined(separator: ",") : doc.targetName
            let text = ([header] + predictions.map { csvField($0, task: doc.task) }).joined(separator: "\n") + "\n"
            try AtomicFile.write(Data(text.utf8), to: output ?? "-")
        } catch {
            throw failure(error)
        }
    }

    /// Quotes a class label that holds a comma, a quote or a line break (CSV's rule); the
    /// values of a regression row are numbers, written as they are.
    func csvField(_ s: String, task: LearningTask) -> String {
        guard task == .classification, s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
