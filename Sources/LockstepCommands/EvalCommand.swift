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
            let saved = try SavedModel.load(from: model)
            let doc = saved.document
            var rows = try loadLabeled(saved, data)
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
            let loss: any Loss = lossFunction(named: doc.summary?.loss, task: doc.task)
            let metrics = Evaluator.evaluate(saved.model, on: scaled, loss: loss, confusionMatrix: doc.task == .classification,
                                             targetScaling: doc.targetStandardization)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try Console.output(String(decoding: try encoder.encode(metrics), as: UTF8.self) + "\n")
            } else {
                var lines = ["\((data as NSString).lastPathComponent)\(split == .all ? "" : " (\(split.rawValue) split)"): \(metrics.count) rows · " + describe(metrics)]
                if let matrix = metrics.confusionMatrix { lines += ConfusionTable.lines(matrix, labels: doc.classLabels) }
                try Console.output(lines.joined(separator: "\n") + "\n")
            }
        } catch {
            throw failure(error)
        }
    }
}

/// The rows of `path` as the model's data set: its feature columns and its target (required).
func loadLabeled(_ saved: SavedModel, _ path: String) throws -> Dataset {
    let doc = saved.document
    let (features, targets) = try Dataset.readRows(at: path, featureNames: doc.featureNames, targetName: doc.targetName,
                                                   task: doc.task, classLabels: doc.classLabels)
    if doc.task == .regression, let outputs = doc.spec.outputFeatures, outputs != 1 {
        throw DataError(file: path, "the model gives \(outputs) outputs, but a data file's target is one column")
    }
    guard let targets else {
        if path.hasSuffix(".npy") {
            throw DataError(file: path, "no target column: the model's \(doc.featureNames.count) features, then '\(doc.targetName)' last")
        }
        throw DataError(file: path, line: 1, "no column named '\(doc.targetName)' (the target) to evaluate against")
    }
    return Dataset(features: features, targets: targets, featureNames: doc.featureNames, targetName: doc.targetName,
                   task: doc.task, classLabels: doc.task == .classification ? doc.classLabels : nil)
}

/// The loss a model was trained with, by its name in the model file.
func lossFunction(named name: String?, task: LearningTask) -> any Loss {
    switch name {
    case "l1": return L1Loss()
    case "huber": return HuberLoss()
    case "bce": return BCEWithLogitsLoss()
    case "cross-entropy": return CrossEntropyLoss()
    case "mse": return MSELoss()
    default: return task == .classification ? CrossEntropyLoss() : MSELoss()
    }
}
