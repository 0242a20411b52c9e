import Foundation
/// The models a trainer trains: an architecture of built-in layers as a value, or a factory of
/// the caller's own `Sequential`.
extension DataParallelTrainer {
    /// Builds the workers, their pinned threads and their replicas (each on its own thread).
    ///
    /// Two trainers in one process share the machine: a second one pins its workers to the CPUs
    /// the first left free, while any are. Building a trainer sets OpenBLAS to one thread per call
    /// for the whole process (`BLAS.useOneThreadPerCall()`): the workers are the threads, and a
    /// BLAS call that spawned its own would fight them for the cores — a tool's own BLAS calls,
    /// from then on, run on the calling thread too.
    ///
    /// - Parameters:
    ///   - workers: number of worker threads, ≥ 1 (more than the CPUs is allowed).
    ///   - placement: how workers are laid over NUMA nodes.
    ///   - topology: the machine; `Topology.current()` by default.
    ///   - pin: pin each worker to its CPU.
    ///   - model: the architecture; every replica is built from `seed`.
    ///   - processes: the job's processes (MPI: `LockstepMPI.MPITransport`), each running `workers`
    ///     workers: the job trains `workers` × processes workers, the model of one process with
    ///     that many when `workers` is a power of two. Global rank 0 evaluates and writes files.
    ///   - shareParameters: with more workers than CPUs, the workers of one NUMA node read one
    ///     parameter buffer, which each updates in its own slice, instead of each holding a copy
    ///     refreshed by the all-gather. The arithmetic is the same; it saves the copies and cache.
    public convenience init(workers: Int = 1, placement: Placement = .packed, topology: Topology = .current(), pin: Bool = true,
                            model: ModelSpec, seed: UInt64 = 0, loss: any Loss, optimizer: OptimizerSpec,
                            schedule: LRSchedule.Kind = .constant, warmupSteps: Int = 0, clipNorm: Float? = nil,
                            shareParameters: Bool = true, processes: (any ProcessTransport)? = nil) throws {
        try model.validate()      // a caller's spec is checked here, not where a worker thread builds it
        try self.init(workers: workers, placement: placement, topology: topology, pin: pin, spec: model,
                      build: { seed, node, shared in model.build(seed: seed, numaNode: node, sharedValues: shared) },
                      seed: seed, loss: loss, optimizer: optimizer, schedule: schedule, warmupSteps: warmupSteps,
                      clipNorm: clipNorm, shareParameters: shareParameters, processes: processes)
    }

    /// Trains a model of the caller's own: `model` builds one replica — a `Sequential` of
    /// built-in layers and modules with a `forward` of their own (a residual block, two branches),
    /// or any module: a class of the caller's own is the model's root (`Sequential(root:)`), its
    /// tensors named as its PyTorch twin's state_dict names them (`conv1.weight`).
    /// It runs once per worker, on that worker's thread (so the replica's memory is first touched
    /// on its NUMA node); the trainer then draws every replica's parameters from `seed`
    /// (`resetParameters(using:)`), so all replicas start identical. Parameters a module
    /// initializes in its own way must depend on nothing but its code.
    ///
    /// The data's width is checked against the model's first layer when that is a built-in one;
    /// a model file and `snapshot()` need an architecture of built-in layers (`modelSpec`).
    ///
    /// ```swift
    /// let trainer = try DataParallelTrainer(workers: 4, model: { Sequential { Linear(8, 32); Residual(32); Linear(32, 3) } },
    ///                                       loss: CrossEntropyLoss(), optimizer: .adam(lr: 1e-3))
    /// ```
    public convenience init(workers: Int = 1, placement: Placement = .packed, topology: Topology = .current(), pin: Bool = true,
                            model factory: @escaping @Sendable () -> any Module, seed: UInt64 = 0, loss: any Loss,
                            optimizer: OptimizerSpec, schedule: LRSchedule.Kind = .constant, warmupSteps: Int = 0,
                            clipNorm: Float? = nil, processes: (any ProcessTransport)? = nil) throws {
        let claims = ReplicaClaims()
        try self.init(workers: workers, placement: placement, topology: topology, pin: pin, spec: nil,
                      build: { seed, _, _ in
                          let module = factory()
                          try claims.claim(module)
                          guard let model = module as? Sequential else { return Sequential(root: module, seed: seed) }
                          var generator = RandomGenerator(seed: seed)
                          model.resetParameters(using: &generator)
                          return model
                      },
                      seed: seed, loss: loss, optimizer: optimizer, schedule: schedule, warmupSteps: warmupSteps,
                      clipNorm: clipNorm, shareParameters: false, processes: processes)
        claims.finish()
    }
}

/// The modules a model factory handed out while a trainer was being built: a factory that
/// returns the same module (or a layer of it) to two workers would have two threads move one
/// parameter into two replicas at once, so the second claim is refused, before any binding.
/// Each replica's parameters, buffers and modules are held until `finish` (so no address is
/// reused while the claims compare them).
private final class ReplicaClaims: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed: Set<ObjectIdentifier> = []
    private var held: [AnyObject] = []
    private var open = true

    func claim(_ module: any Module) throws {
        var objects: [AnyObject] = []
        func collect(_ m: any Module) {
            objects.append(m)
            if !(m is Sequential) {   // a Sequential's `parameters` are its layers'
                objects += m.parameters as [AnyObject]
                objects += m.buffers as [AnyObject]
            }
            for child in m.children { collect(child.module) }
        }
        collect(module)
        lock.lock()
        defer { lock.unlock() }
        guard open else { return }
        // A module listed twice within one replica (tied weights) shows up here too.
        var mine = Set<ObjectIdentifier>()
        for object in objects where !(object is Sequential) {
            let id = ObjectIdentifier(object)
            if claimed.contains(id) {
                throw ConfigurationError("the model factory handed two workers the same \(Self.describe(object)): build a new "
                                         + "module on every call (`model: { MyNet() }`, not a module made once outside it)")
            }
            if !mine.insert(id).inserted, object is Parameter {
                throw ConfigurationError("\(Self.describe(object)) is reached twice in one model (a module listed twice among "
                                         + "`children`, or tied weights): Lockstep trains each parameter under one name")
            }
        }
        claimed.formUnion(mine)
        held += objects
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        open = false
        claimed = []
        held = []
    }

    private static func describe(_ object: AnyObject) -> String {
        if let p = object as? Parameter { return "parameter '\(p.localName)' \(p.shape)" }
        if let b = object as? Buffer { return "buffer '\(b.localName)'" }
        return "module \(type(of: object))"
    }
}
