// The `lockstep` executable: the commands live in LockstepCommands.
import Lockstep
import LockstepCommands

// No other thread exists yet: OpenBLAS's idle pool can be stopped safely (every command runs BLAS
// one thread per call; the workers are the threads).
BLAS.stopThreadPool()
LockstepCommand.main()
