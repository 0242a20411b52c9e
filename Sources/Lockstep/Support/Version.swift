/// This build's version, for `lockstep --version`, bug reports and the files it writes.
public enum LockstepVersion {
    /// Semantic version of the library and the command.
    public static let current = "0.3.0"
}
