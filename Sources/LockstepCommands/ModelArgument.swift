import Lockstep

/// The model file that `predict`, `eval` and `export` take. A run's checkpoint is a safetensors
/// file too, and was refused as "not a Lockstep model", which did not say what it is or what to
/// do with it.
enum ModelArgument {
    /// The model at `path`; a checkpoint given instead is named as one, with where to go next.
    static func load(_ path: String) throws -> SavedModel {
        do {
            return try SavedModel.load(from: path)
        } catch {
            if let file = try? SafeTensors.read(at: path), file.metadata[Checkpoint.stateKey] != nil {
                throw FileError(path: path, "a run's checkpoint, not a model file: `lockstep info \(path)` shows where the run stands; "
                                + "finish it with `lockstep train ... --resume-from`, which saves the model file (--save)")
            }
            throw error
        }
    }
}
