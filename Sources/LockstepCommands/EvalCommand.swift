import ArgumentParser
import Foundation
import Lockstep

/// Rows of a data file that `eval` scores.
enum SplitChoice: String, ExpressibleByArgument, CaseIterable { case all, train, validation, test }

/// `lockstep eval MODEL --data D`: the model's loss and metrics on a data file.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a saved model on a data file (its standardization and labels applied).")

    @Argument(help: "A model file written by `lockstep train`.")
    var model: String
    @Option(help: "A CSV file with the model's feature columns and its target column, or an .npy array of the features in order, then the target.")
    var data: String
    @Option(help: "Score only this part of the file, split as in training (all, train, validation, test).")
    var split: SplitChoice = .all
    @Flag(help: "Print the metrics as JSON.")
    var json = false

    func run() throws {
        do {
            BLAS.useOneThreadPerCall()
            let saved = try ModelArgument.load(model)
            let doc = saved.document
            var rows = try doc.readLabeledRows(at: data)
            if split != .all {
                guard let settings = doc.summary?.split else {
                    throw FileError(path: model, "the model does not record how its data was split; use --split all")
                }
                let parts = try rows.split(testFraction: settings.testFraction, validationFraction: settings.validationFraction, seed: settings.seed)
                switch split {
                case .train: rows = parts.train
                case .validation:
                    guard let v = parts.validation else { throw FileError(path: model, "the model was trained without a validation split") }
                    rows = v
                case .test, .all: rows = parts.test
                }
            }
            var scaled = doc.standardization.map { $0.transform(rows) } ?? rows
            if let t = doc.targetStandardization { scaled = t.transformTargets(scaled) }
            let loss = ((doc.summary?.loss).flatMap(LossSpec.init(rawValue:)) ?? .default(for: doc.task)).make()
            let metrics = try Evaluator.evaluate(saved.model, on: scaled, loss: loss, confusionMatrix: doc.task == .classification,
                                             targetScaling: doc.targetStandardization)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try Console.output(String(decoding: try encoder.encode(metrics), as: UTF8.self) + "\n")
            } else {
                var lines = ["\(PathText.lastComponent(of: data))\(split == .all ? "" : " (\(split.rawValue) split)"): \(metrics.count) rows · " + describe(metrics)]
                if let matrix = metrics.confusionMatrix { lines += ConfusionTable.lines(matrix, labels: doc.classLabels) }
                try Console.output(lines.joined(separator: "\n") + "\n")
            }
        } catch {
            throw failure(error)
        }
    }
}
