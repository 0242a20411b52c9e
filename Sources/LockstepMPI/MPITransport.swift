#if MPI
import CMPI
import Foundation
import Lockstep

/// The processes of an MPI job (OpenMPI), as a `ProcessTransport`: a trainer given one runs its
/// workers as this process's share of the job, and the job trains the model that one process
/// with all the workers trains. Built only with the package trait `MPI`.
///
/// Only the first worker thread of a process calls MPI during training (`MPI_THREAD_SERIALIZED`);
/// its waits poll, so that a failure of this process's own workers is noticed instead of waited
/// out. Messages use MPI's point-to-point calls only: MPI's reductions sum in no fixed order.
/// (The README's "Beyond one machine" shows a trainer built over it.)
public final class MPITransport: ProcessTransport, @unchecked Sendable {
    public let process: Int
    public let processCount: Int
    public let hostName: String
    /// A communicator of Lockstep's own (a duplicate of MPI_COMM_WORLD): a tool's own MPI messages
    /// never match the trainer's.
    private let world: MPI_Comm?
    /// Set when a wait was cancelled: its receives may still land, so the transport refuses
    /// further use (the job is ending).
    private var broken = false
    /// The largest piece one MPI message carries (MPI counts are 32-bit): larger buffers go as
    /// several messages, cut the same way on both sides.
    static let piece = 1 << 30

    /// Whether this process was started by `mpirun` (OpenMPI's environment says so).
    public static var launchedByMPI: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil || ProcessInfo.processInfo.environment["PMIX_RANK"] != nil
    }

    /// Joins the job (`MPI_Init_thread`). Call once per process, before any trainer is built;
    /// every process's trainers must be built and run in the same order (their messages meet by
    /// order).
    public init() throws {
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, lockstep_mpi_thread_serialized(), &provided) == MPI_SUCCESS else {
            throw ConfigurationError("MPI_Init_thread failed")
        }
        guard provided >= lockstep_mpi_thread_serialized() else {
            throw ConfigurationError("this MPI library gives threads level \(provided); Lockstep needs MPI_THREAD_SERIALIZED")
        }
        var comm: MPI_Comm? = nil
        guard MPI_Comm_dup(lockstep_mpi_comm_world(), &comm) == MPI_SUCCESS else { throw ConfigurationError("MPI_Comm_dup failed") }
        world = comm
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        process = Int(rank)
        processCount = Int(size)
        var name = [CChar](repeating: 0, count: Int(lockstep_mpi_max_processor_name()) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&name, &length)
        hostName = String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func exchange(sends: [(UnsafeRawBufferPointer, to: Int)], receives: [(UnsafeMutableRawBufferPointer, from: Int)],
                         cancelled: () -> Bool) throws {
        if broken { throw WorkerAborted(reason: "an earlier exchange between processes was cut short") }
        var requests: [MPI_Request?] = []
        // Receives first, so that a message finds its buffer posted.
        for (bytes, from) in receives {
            for range in Self.pieces(bytes.count) {
                var request: MPI_Request? = lockstep_mpi_request_null()
                MPI_Irecv(bytes.baseAddress.map { $0 + range.lowerBound }, Int32(range.count), lockstep_mpi_byte(), Int32(from), 0, world, &request)
                requests.append(request)
            }
        }
        for (bytes, to) in sends {
            for range in Self.pieces(bytes.count) {
                var request: MPI_Request? = lockstep_mpi_request_null()
                MPI_Isend(bytes.baseAddress.map { $0 + range.lowerBound }, Int32(range.count), lockstep_mpi_byte(), Int32(to), 0, world, &request)
                requests.append(request)
            }
        }
        var done: Int32 = 0
        var polls = 0
        while true {
            MPI_Testall(Int32(requests.count), &requests, &done, lockstep_mpi_statuses_ignore())
            if done != 0 { return }
            polls += 1
            if polls % 64 == 0 {
                if cancelled() {
                    broken = true
                    throw WorkerAborted(reason: "this process's workers failed")
                }
                sched_yield()
            }
        }
    }

    /// Byte ranges of at most `piece` bytes covering `count` (one empty range for an empty message).
    static func pieces(_ count: Int) -> [Range<Int>] {
        guard count > piece else { return [0..<count] }
        return stride(from: 0, to: count, by: piece).map { $0..<min($0 + piece, count) }
    }

    /// Leaves the job normally (`MPI_Finalize`): every process calls it once, at the end.
    public func finalize() { MPI_Finalize() }

    /// Ends every process of the job (`MPI_Abort`) with `code`: after this process's error is
    /// printed, so that the job stops with one message instead of the others waiting for this one.
    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }
}
#endif
