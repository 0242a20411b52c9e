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

    /// This process's share of `machine` when `mpirun` started several processes of the job on
    /// it without binding them (`--bind-to none`): the CPUs cut into as many consecutive parts as
    /// processes there, so that they do not pin their workers onto the same CPUs. Nil otherwise
    /// (a process bound by mpirun sees only its own CPUs already).
    func localShare(of machine: Topology) -> Topology? {
        let env = ProcessInfo.processInfo.environment
        guard transport != nil, let rank = env["OMPI_COMM_WORLD_LOCAL_RANK"].flatMap(Int.init),
              let size = env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), size > 1, (0..<size).contains(rank) else { return nil }
        let cpus = machine.nodes.flatMap { $0 }
        guard cpus.count >= size else { return nil }   // fewer CPUs than processes: every process shares them all
        let mine = Set(cpus[(rank * cpus.count / size)..<((rank + 1) * cpus.count / size)])
        let kept = machine.nodes.indices.filter { machine.nodes[$0].contains(where: mine.contains) }
        return Topology(nodes: kept.map { machine.nodes[$0].filter(mine.contains) }, nodeIDs: kept.map { machine.nodeIDs[$0] })
    }

    /// Whether this binary can join an MPI job (built with the trait `MPI`).
    static var mpiBuiltIn: Bool {
        #if MPI
        return true
        #else
        return false
        #endif
    }

    /// Joins the MPI job this process was started in, if any. A binary built without MPI that
    /// `mpirun` started as one of several processes refuses: each would train a model of its own
    /// and write the same files.
    static func join() throws -> ProcessJob {
        #if MPI
        if MPITransport.launchedByMPI { return ProcessJob(transport: try MPITransport()) }
        #endif
        if let size = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init), size > 1 {
            throw ConfigurationError("this lockstep was built without MPI, and mpirun started \(size) of it: each would train a model "
                                     + "of its own; build it with `swift build -c release --traits MPI`")
        }
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
                // An error every process meets (a bad file, a setting) is rank 0's to print: the
                // others give its MPI_Abort time to end them before they print theirs (mpirun sends
                // SIGTERM, which they take as a stop request, one second after the abort, and
                // SIGKILL one second later: odls_base_sigkill_timeout).
                if mpi.process != 0 { sleep(3) }
                let text = "\(error)"
                Console.error("error: " + (text.hasPrefix(mpi.processDescription) ? text : "\(mpi.processDescription): \(text)"))
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
