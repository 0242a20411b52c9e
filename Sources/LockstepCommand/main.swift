// The `lockstep` executable: the commands live in LockstepCommands.
import LockstepCommands

LockstepCommand.main()
