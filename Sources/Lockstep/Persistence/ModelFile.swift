import Foundation

/// The versioned document a model file carries in its safetensors `__metadata__` (under the key
/// "lockstep", as JSON): everything needed to rebuild the model and predict from the file alone.
public struct ModelDocument: Codable, Sendable, Equatable {
    /// The schema version this Lockstep writes.
    public static let currentSchemaVersion = 1

    /// The schema version of the document.
    public var schemaVersion = ModelDocument.currentSchemaVersion
    /// The architecture (JSON key "model").
    public var spec: ModelSpec
    /// Regression or classification.
    public var task: LearningTask
    /// The input columns, in the order the model takes them.
    public var featureNames: [String]
    /// The name of the predicted column.
    public var targetName: String
    /// Applied to features before the model, as in training.
    public var standardization: Standardizer?
    /// The standardization of regression targets in training: predictions are x · std + mean.
    public var targetStandardization: Standardizer?
    /// Class labels by output index (classification).
    public var classLabels: [String]
    /// How the model was trained, when recorded.
    public var summary: TrainingSummary?

    /// A document without target standardization; set `targetStandardization` for a
    /// regression trained on standardized targets.
    public init(spec: ModelSpec, task: LearningTask, featureNames: [String], targetName: String,
                standardization: Standardizer?, classLabels: [String], summary: TrainingSummary? = nil) {
        self.spec = spec
        self.task = task
        self.featureNames = featureNames
        self.targetName = targetName
        self.standardization = standardization
        self.classLabels = classLabels
        self.summary = summary
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", spec = "model", task, featureNames = "feature_names", targetName = "target"
        case standardization, targetStandardization = "target_standardization", classLabels = "class_labels", summary
    }
}

extension ModelDocument {
    /// Throws unless the document agrees with itself: the architecture chains, it takes one input
    /// per feature name, the standardizations have one finite mean and positive std per feature
    /// (per output for the target), and classification has a label per output (two for one logit).
    public func validate() throws {
        guard schemaVersion >= 1 else { throw ConfigurationError("schema version \(schemaVersion)") }
        try spec.validate()
        guard Set(featureNames).count == featureNames.count else { throw ConfigurationError("the feature names are not unique") }
        let inputs = spec.inputFeatures ?? 0
        guard inputs == featureNames.count else {
            throw ConfigurationError("the model takes \(inputs) features, but \(featureNames.count) feature names are given")
        }
        let outputs = spec.outputFeatures ?? 0
        for (name, s, width) in [("standardization", standardization, inputs), ("target_standardization", targetStandardization, outputs)] {
            guard let s else { continue }
            guard s.mean.count == width, s.std.count == width else {
                throw ConfigurationError("'\(name)' has \(s.mean.count) means and \(s.std.count) stds for \(width) columns")
            }
            guard s.mean.allSatisfy(\.isFinite), s.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw ConfigurationError("'\(name)' needs finite means and positive finite stds")
            }
        }
        switch task {
        case .classification:
            guard classLabels.count >= 2, classLabels.count == outputs || (outputs == 1 && classLabels.count == 2) else {
                throw ConfigurationError("\(classLabels.count) class labels for a model with \(outputs) outputs")
            }
            guard targetStandardization == nil else { throw ConfigurationError("a classifier has no target standardization") }
        case .regression:
            guard classLabels.isEmpty else { throw ConfigurationError("a regression model with class labels") }
        }
    }
}

/// What training left behind, recorded in the model file.
public struct TrainingSummary: Codable, Sendable, Equatable {
    /// Epochs completed.
    public var epochs: Int
    /// Optimizer steps taken.
    public var steps: Int
    /// Worker threads that trained it.
    public var workers: Int
    /// Rows per global batch.
    public var batchSize: Int
    /// The loss's name ("cross-entropy").
    public var loss: String
    /// The optimizer's summary ("Adam(lr 0.001)").
    public var optimizer: String
    /// The seed of the run.
    public var seed: UInt64
    /// The last epoch's mean training loss.
    public var trainLoss: Float?
    /// Metrics on the test split.
    public var test: Metrics?
    /// How the data was split, so that `lockstep eval --split test` can take the same rows.
    public var split: SplitSettings?

    /// A summary from its parts.
    public init(epochs: Int, steps: Int, workers: Int, batchSize: Int, loss: String, optimizer: String, seed: UInt64,
                trainLoss: Float?, test: Metrics?, split: SplitSettings? = nil) {
        self.split = split
        self.epochs = epochs
        self.steps = steps
        self.workers = workers
        self.batchSize = batchSize
        self.loss = loss
        self.optimizer = optimizer
        self.seed = seed
        self.trainLoss = trainLoss
        self.test = test
    }
}

/// The settings of `Dataset.split`.
public struct SplitSettings: Codable, Sendable, Equatable {
    /// The fraction of rows held out for testing, in [0, 1).
    public var testFraction: Double
    /// The fraction of rows held out for validation, in [0, 1).
    public var validationFraction: Double
    /// The seed of the shuffle.
    public var seed: UInt64
    /// The settings of a split.
    public init(testFraction: Double, validationFraction: Double, seed: UInt64) {
        self.testFraction = testFraction
        self.validationFraction = validationFraction
        self.seed = seed
    }
}

/// A trained model with its document: saved as one safetensors file whose tensor names and
/// shapes are those of the equivalent `torch.nn.Sequential`'s state_dict, loaded back to predict.
///
/// ```swift
/// try SavedModel(model: trainer.model, document: document).save(to: "model.safetensors")
/// let loaded = try SavedModel.load(from: "model.safetensors")
/// try loaded.predictions(for: newRows)     // ["setosa", "virginica", …] or values
/// ```
public struct SavedModel {
    /// The model, its parameters holding the trained weights.
    public let model: Sequential
    /// What the file records besides the weights.
    public let document: ModelDocument

    /// Pairs a model with the document to save with it.
    public init(model: Sequential, document: ModelDocument) {
        self.model = model
        self.document = document
    }

    /// The safetensors contents: the state dict and the document.
    public func safetensors() throws -> SafeTensors {
        var file = SafeTensors(metadata: ["format": "pt"])
        try file.setDocument(document, forKey: "lockstep")
        file.appendState(of: model)
        return file
    }

    /// Writes the model file atomically.
    public func save(to path: String) throws { try safetensors().write(to: path) }

    /// Reads a model file, checking its document and that its tensors fit the architecture.
    public static func load(from path: String) throws -> SavedModel {
        let file = try SafeTensors.read(at: path)
        let document = try file.document(ModelDocument.self, forKey: "lockstep", path: path,
                                         missing: "no Lockstep metadata: a safetensors file, but not a Lockstep model")
        guard document.schemaVersion <= ModelDocument.currentSchemaVersion else {
            throw FileError(path: path, "model schema version \(document.schemaVersion) is newer than this Lockstep reads (\(ModelDocument.currentSchemaVersion))")
        }
        do { try document.validate() } catch { throw FileError(path: path, "the model metadata is inconsistent: \(error)") }
        // The architecture must hold exactly the parameters the file holds before anything is
        // allocated for it: an edited width cannot make Lockstep allocate more than the file.
        let expected = try document.spec.checkedParameterCount() + document.spec.bufferCount
        var stored = 0
        for name in file.names {
            let (sum, overflow) = stored.addingReportingOverflow(file[name]!.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue })
            guard !overflow else { throw FileError(path: path, "tensor sizes overflow") }
            stored = sum
        }
        guard stored == expected else {
            throw FileError(path: path, "the model metadata describes \(expected) values (parameters and buffers), but the file holds \(stored)")
        }
        let model = document.spec.build()
        var state: [String: Tensor] = [:]
        for name in file.names {
            let t = try file.tensor(name)
            guard t.scalars.allSatisfy(\.isFinite) else { throw FileError(path: path, "tensor '\(name)' holds values that are not finite") }
            state[name] = t
        }
        do { try model.loadStateDict(state) } catch { throw FileError(path: path, "\(error)") }
        return SavedModel(model: model, document: document)
    }

    /// The model's raw outputs for rows of features (standardized as in training).
    public func predict(_ features: Tensor) throws -> Tensor {
        guard features.shape.rank == 2 && features.shape[1] == document.featureNames.count else {
            throw ConfigurationError("the model takes rows of \(document.featureNames.count) features, got a tensor of shape \(features.shape)")
        }
        let x = document.standardization.map { $0.transform(features) } ?? features
        let out = try Evaluator.predict(model, x)
        return document.targetStandardization.map { $0.inverse(out) } ?? out
    }

    /// One prediction per row: the class label, or the value(s) as text.
    public func predictions(for features: Tensor) throws -> [String] {
        let out = try predict(features)
        switch document.task {
        case .classification:
            // One output is a binary logit (BCE): class 1 when positive.
            let classes = out.shape[1] == 1 ? out.scalars.map { $0 > 0 ? 1 : 0 } : out.argmaxRows()
            return classes.map { $0 < document.classLabels.count ? document.classLabels[$0] : String($0) }
        case .regression:
            let k = out.shape[1]
            return (0..<out.shape[0]).map { r in (0..<k).map { String(out[r, $0]) }.joined(separator: ",") }
        }
    }
}
