/// Weights from elsewhere into every replica: a model file to continue training from. The
/// optimizer's state (moments, step count) stays as it is, as after PyTorch's `load_state_dict`
/// on the model alone: on a new trainer that is a fresh optimizer; to continue a run with its
/// optimizer state, resume from its checkpoint instead.
extension DataParallelTrainer {
    /// Puts `state` — tensors by PyTorch `state_dict` name — into every replica, strictly:
    /// a missing, extra or mis-shaped tensor is named, and nothing changes unless all fit.
    ///
    /// ```swift
    /// try trainer.load(from: "byte-lm.safetensors")    // then fit goes on from those weights
    /// ```
    public func loadStateDict(_ state: [String: Tensor]) throws {
        try replicate { try $0.loadStateDict(state) }
    }

    /// Reads a safetensors file of tensors by name (`Module.save(to:)`'s, PyTorch's
    /// `save_file(model.state_dict())`) into every replica, as `loadStateDict`.
    public func load(from path: String) throws {
        try replicate { try $0.load(from: path) }
    }

    /// Loads into this process's first replica with `load` (over processes, every process loads
    /// the file itself), then every replica takes rank 0's values through the communicator.
    private func replicate(_ load: (Sequential) throws -> Void) throws {
        try claimWorkers()
        defer { busy.store(false, ordering: .sequentiallyConsistent) }
        try load(model)
        let values = replicaParameters(localWorkers.lowerBound), buffers = replicaBuffers(localWorkers.lowerBound), workers = self.workers
        do {
            try launcher.run { rank, _ in
                try workers[rank].loadParameters(from: rank == 0 ? values : nil)
                try workers[rank].loadBuffers(from: rank == 0 ? buffers : nil)
            }
        } catch let failure as WorkerFailure {
            throw failure.underlying
        }
    }
}
