import NUMASystem

/// A /proc or sysfs text that does not have the shape the kernel prints:
/// truncated, garbage, or numbers no kernel would print. Parsers throw it
/// instead of crashing, so a process that exits mid-read is a normal event.
public struct ProcParseError: Error, Equatable, CustomStringConvertible {
    /// The file it came from: a path ("/proc/123/maps") or a short name ("maps").
    public var source: String
    /// The 1-based line, when the fault is on one line.
    public var line: Int?
    public var reason: String

    public init(source: String, line: Int?, reason: String) {
        self.source = source
        self.line = line
        self.reason = reason
    }

    /// "maps:3: bad address range \"zz\"", or "status: no Pid line".
    public var description: String {
        if let line { return "\(source):\(line): \(reason)" }
        return "\(source): \(reason)"
    }
}

/// Why a reader could not give a file's parsed content.
public enum ProcReadError: Error, Equatable, CustomStringConvertible {
    /// The process is gone (ENOENT or ESRCH, and /proc/pid no longer exists).
    case noSuchProcess(pid: Int32)
    /// EACCES or EPERM: another user's process without CAP_SYS_PTRACE, or hidepid.
    case permissionDenied(pid: Int32, path: String)
    /// Any other failure, including a missing file of a process that still
    /// exists (no CONFIG_SCHED_DEBUG, smaps_rollup of a kernel thread).
    case io(path: String, errno: Int32)
    case parse(ProcParseError)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid):
            return "no process with pid \(pid)"
        case .permissionDenied(let pid, let path):
            return "permission denied reading \(path) of pid \(pid)"
        case .io(let path, let errno):
            return "cannot read \(path): \(errnoName(errno))"
        case .parse(let error):
            return error.description
        }
    }
}

/// "ENOENT (2)": the errno's symbolic name and number, or "errno 4242" for one without a name.
func errnoName(_ code: Int32) -> String {
    let name = Errno.name(code)
    return name == "errno \(code)" ? name : "\(name) (\(code))"
}
