import ArgumentParser
import Lockstep

/// `lockstep`: train, evaluate and use neural networks on all the cores of a machine.
public struct LockstepCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lockstep",
        abstract: "Data-parallel neural network training on multicore CPUs, in PyTorch's six pillars.",
        discussion: """
            Train with `lockstep train --workers 8` (the built-in line y = 0.7·x + 0.3 when no --data is \
            given), then `lockstep eval` and `lockstep predict` with the saved model file.
            """,
        version: "lockstep \(LockstepVersion.current) (model files: schema \(ModelDocument.currentSchemaVersion), "
            + "checkpoints: schema \(Checkpoint.State.currentSchemaVersion)" + (ProcessJob.mpiBuiltIn ? "; MPI" : "") + ")",
        subcommands: [TrainCommand.self, EvalCommand.self, PredictCommand.self, ExportCommand.self, BenchCommand.self, InfoCommand.self])

    public init() {}
}

/// Data, model and training problems end a command with `error: …` on standard error and exit
/// status 1; usage problems are swift-argument-parser's (exit status 64).
func failure(_ error: any Error) -> ExitCode {
    Console.error("error: \(error)")
    return ExitCode(1)
}

extension Placement: ExpressibleByArgument {}
extension LearningTask: ExpressibleByArgument {}
extension MonitoredMetric: ExpressibleByArgument {}
extension LossSpec: ExpressibleByArgument {}
