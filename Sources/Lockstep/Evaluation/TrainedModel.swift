/// An immutable copy of a model's weights with its architecture: a value, `Sendable`, safe to
/// hand to another task or thread while the trainer goes on training. `trainer.model` is worker
/// 0's live replica, which the next `fit` changes; a snapshot never changes.
///
/// ```swift
/// let snapshot = trainer.snapshot()
/// Task.detached { print(try snapshot.predict(rows)) }    // rows: [n, features]
/// try await trainer.fit(train, moreEpochs)           // the snapshot keeps its weights
/// ```
public struct TrainedModel: Sendable, Equatable {
    /// The architecture, from which `makeModule()` rebuilds the model; nil for a model of the
    /// caller's own layers (rebuilt by the trainer's factory instead).
    public let spec: ModelSpec?
    /// The flat parameter values, in the layout of the model's `ParameterStore`.
    public let parameters: [Float]
    /// The flat buffer values (running statistics), in the layout of `Sequential.bufferValues`.
    public let buffers: [Float]
    /// Builds an empty replica of the architecture.
    private let build: @Sendable () -> Sequential

    /// A snapshot of an architecture and its flat parameter values, in the layout of
    /// `spec.build()`'s `ParameterStore`.
    public init(spec: ModelSpec, parameters: [Float], buffers: [Float] = []) {
        self.init(spec: spec, parameters: parameters, buffers: buffers) { spec.build() }
    }

    /// A snapshot of flat parameter and buffer values and the way to build the model they fit.
    init(spec: ModelSpec?, parameters: [Float], buffers: [Float], build: @escaping @Sendable () -> Sequential) {
        self.spec = spec
        self.parameters = parameters
        self.buffers = buffers
        self.build = build
    }

    /// A copy of `model`'s current weights; nil when a layer is not a built-in one (its
    /// architecture is then no value to rebuild it from).
    public init?(_ model: Sequential) {
        guard let spec = model.modelSpec else { return nil }
        self.init(spec: spec, parameters: Array(model.store.values.buffer), buffers: Array(model.bufferValues.buffer))
    }

    /// Equal architectures and bit-for-bit equal weights.
    public static func == (a: TrainedModel, b: TrainedModel) -> Bool {
        a.spec == b.spec && a.parameters.map(\.bitPattern) == b.parameters.map(\.bitPattern)
            && a.buffers.map(\.bitPattern) == b.buffers.map(\.bitPattern)
    }

    /// A fresh module holding these weights, for the APIs that take one (`Evaluator`,
    /// `SavedModel`); changing it leaves the snapshot as it is.
    public func makeModule() -> Sequential {
        let model = build()
        precondition(model.store.count == parameters.count && model.bufferValues.count == buffers.count,
                     "the snapshot's parameters do not fit its architecture")
        parameters.withUnsafeBufferPointer { Kernels.copy($0.baseAddress!, model.store.values.base, $0.count) }
        buffers.withUnsafeBufferPointer { if $0.count > 0 { Kernels.copy($0.baseAddress!, model.bufferValues.base, $0.count) } }
        return model
    }

    /// The model's outputs for rows of features [n, features] → [n, outputs] (inference: no
    /// dropout, no tape kept). Throws when the rows do not fit the model.
    public func predict(_ features: Tensor) throws -> Tensor { try Evaluator.predict(makeModule(), features) }
}
