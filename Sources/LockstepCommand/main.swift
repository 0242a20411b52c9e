// The `lockstep` executable: the commands live in LockstepCommands.
import Foundation
import Lockstep
import LockstepCommands

// No other thread exists yet: OpenBLAS's idle pool can be stopped safely (every command runs BLAS
// one thread per call; the workers are the threads).
BLAS.stopThreadPool()
// A write past the file-size limit (`ulimit -f`) then fails with EFBIG and is reported like a full
// disk, its temporary file removed, rather than SIGXFSZ ending the process without a word.
signal(SIGXFSZ, SIG_IGN)
LockstepCommand.main()
