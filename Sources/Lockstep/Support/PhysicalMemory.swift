#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The machine's physical memory in bytes (0 when the system does not say): what the checks
/// that refuse a run too large to fit compare with, before anything is allocated.
public func physicalMemoryBytes() -> Double {
    Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
}
