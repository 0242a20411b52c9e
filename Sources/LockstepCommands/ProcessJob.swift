import ArgumentParser
import Foundation
import Lockstep
#if MPI
import LockstepMPI
#endif

/// The processes `lockstep train` runs in: this one alone or — built with the trait `MPI` and
/// started by `mpirun` — every process of the MPI job, each running `--workers` workers.
struct ProcessJob {
    /// The job's transport, or nil for a run in this process alone.
    let transport: (any ProcessTransport)?
    /// Processes in the job.
    var count: Int { transport?.processCount ?? 1 }
    /// Whether this process holds global rank 0, which prints, evaluates and writes every file.
    var isRoot: Bool { (transport?.process ?? 0) == 0 }

    /// Joins the MPI job this process was started in, if any.
    static func join() throws -> ProcessJob {
        #if MPI
        if MPITransport.launchedByMPI { return ProcessJob(transport: try MPITransport()) }
        #endif
        return ProcessJob(transport: nil)
    }

    /// Runs `body` as this process's part of the job; an error ends the command with `error: …`
    /// and exit status 1. Over MPI, the error names the process and its host and ends the whole
    /// job (MPI_Abort), so that no process waits for this one; an interruption (an exit status
    /// of its own) and success leave the job normally (MPI_Finalize).
    func run(_ body: () throws -> Void) throws {
        #if MPI
        if let mpi = transport as? MPITransport {
            do {
                try body()
            } catch let exit as ExitCode {
                mpi.finalize()
                throw exit
            } catch {
                Console.error("error: \(mpi.processDescription): \(error)")
                mpi.abort(code: 1)
            }
            mpi.finalize()
            return
        }
        #endif
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw failure(error)
        }
    }
}
