extension ModelDocument {
    /// The document of a model trained on `data`: its names, task and class labels, with the
    /// standardization the model's inputs had — a required argument (pass nil for none), since
    /// a model saved without the scaling it was trained with predicts wrongly on raw rows.
    public init(spec: ModelSpec, describing data: Dataset, standardization: Standardizer?,
                targetStandardization: Standardizer? = nil, summary: TrainingSummary? = nil) {
        self.init(spec: spec, task: data.task, featureNames: data.featureNames, targetName: data.targetName,
                  standardization: standardization, classLabels: data.classLabels, summary: summary)
        self.targetStandardization = targetStandardization
    }
}

extension SavedModel {
    /// A model file's contents in one call: a snapshot's weights and architecture, described by
    /// the data it was trained on and the standardization its inputs had. Throws for a model of
    /// the caller's own layers, whose architecture a model file cannot describe yet.
    ///
    /// ```swift
    /// let saved = try SavedModel(trainer.snapshot(), describing: iris, standardization: scaler)
    /// try saved.save(to: "iris.safetensors")
    /// ```
    public init(_ snapshot: TrainedModel, describing data: Dataset, standardization: Standardizer?,
                targetStandardization: Standardizer? = nil) throws {
        guard let spec = snapshot.spec else {
            throw ConfigurationError("the model has layers of its own: a model file describes built-in layers only "
                                     + "(save its state with `trainer.model.save(to:)` instead, and load it with `load(from:)`)")
        }
        self.init(model: snapshot.makeModule(),
                  document: ModelDocument(spec: spec, describing: data, standardization: standardization,
                                          targetStandardization: targetStandardization))
    }
}
