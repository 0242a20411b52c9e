#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a path names nothing that can be opened, in the words of an error line. Foundation's
/// `fileExists` is false for a loop of links, a link to nothing and a path through a file, and
/// each read "no such file". (Package-internal: the library's and the command's files.)
package enum MissingFile {
    /// nil where `path` leads to something (whatever it is), or, with `absentIsFine`, to nothing
    /// that is about to be created; else the reason: "an empty file name", "no such file", "a
    /// link to a missing file", "a loop of symbolic links", "a part of its path is not a folder",
    /// "permission denied on a folder of its path", or the system's words.
    package static func reason(_ path: String, absentIsFine: Bool = false) -> String? {
        if path.isEmpty { return "an empty file name" }
        var info = stat()
        if stat(path, &info) == 0 { return nil }
        let error = errno
        switch error {
        case ENOENT: return lstat(path, &info) == 0 ? "a link to a missing file" : absentIsFine ? nil : "no such file"
        case ELOOP: return "a loop of symbolic links"
        case ENOTDIR: return "a part of its path is not a folder"
        case EACCES: return "permission denied on a folder of its path"
        case ENAMETOOLONG: return "a name too long"
        default: return String(cString: strerror(error))
        }
    }

    /// nil where the folder at `path` can be listed; else why not, in the system's words
    /// ("cannot list its files: Permission denied"). A folder that cannot be listed looked empty: "no checkpoint" hid the reason.
    package static func unlistable(_ path: String) -> String? {
        guard let folder = opendir(path) else { return "cannot list its files: " + String(cString: strerror(errno)) }
        closedir(folder)
        return nil
    }
}
