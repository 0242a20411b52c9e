extension ModelDocument {
    /// The rows of a CSV or `.npy` file as this model's data set: its feature columns and its
    /// target, which the file must have (what `eval` scores). Class labels are the model's own.
    ///
    /// ```swift
    /// let rows = try SavedModel.load(from: "model.safetensors").document.readLabeledRows(at: "new.csv")
    /// ```
    public func readLabeledRows(at path: String) throws -> Dataset {
        let (features, targets) = try Dataset.readRows(at: path, featureNames: featureNames, targetName: targetName,
                                                       task: task, classLabels: classLabels)
        if task == .regression, let outputs = spec.outputFeatures, outputs != 1 {
            throw DataError(file: path, "the model gives \(outputs) outputs, but a data file's target is one column")
        }
        guard let targets else {
            if Dataset.isNPY(path) {
                throw DataError(file: path, "no target column: the model's \(featureNames.count) features, then '\(targetName)' last")
            }
            throw DataError(file: path, line: 1, "no column named '\(targetName)' (the target) to evaluate against")
        }
        return try Dataset(features: features, targets: targets, featureNames: featureNames, targetName: targetName,
                       task: task, classLabels: task == .classification ? classLabels : nil)
    }
}
