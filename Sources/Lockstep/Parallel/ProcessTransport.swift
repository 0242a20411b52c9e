/// How the processes of a multi-process job move bytes between each other: the one thing the
/// hierarchical communicator needs of MPI (`LockstepMPI.MPITransport`) or of any other transport.
///
/// Only one thread of a process — its first local rank's — calls a transport during a job, so
/// an MPI transport needs no more than `MPI_THREAD_SERIALIZED`.
///
/// ```swift
/// // on process 0 of 2: send 4 floats to process 1, receive 4 from it
/// try transport.exchange(sends: [(mine, to: 1)], receives: [(theirs, from: 1)]) { false }
/// ```
public protocol ProcessTransport: AnyObject, Sendable {
    /// This process's index, in 0..<processCount.
    var process: Int { get }
    /// Processes in the job.
    var processCount: Int { get }
    /// The machine this process runs on, for messages ("process 1 on node7").
    var hostName: String { get }
    /// Posts every send and every receive at once and returns when all are complete. Messages
    /// between two processes arrive in the order they were sent. A receive of another size than
    /// the message sent is an error. While it waits it asks `cancelled` now and then, and throws
    /// `WorkerAborted` when that says so (this process's other ranks failed): it never waits
    /// forever for a peer that this process's failure keeps from sending.
    func exchange(sends: [(UnsafeRawBufferPointer, to: Int)], receives: [(UnsafeMutableRawBufferPointer, from: Int)],
                  cancelled: () -> Bool) throws
}

extension ProcessTransport {
    /// What a message names this process as: "process 1 on node7".
    public var processDescription: String { "process \(process) on \(hostName)" }
}
