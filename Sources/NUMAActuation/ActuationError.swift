import NUMAModel
import NUMAProc

/// Why the actuator did not act, or stopped. A process that exits is a
/// normal event (`exited`), reported with what was done before it.
public enum ActuationError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSuchProcess(pid: Int32)
    /// The pid now belongs to another process (a different start time).
    case processChanged(expected: ProcessIdentity, found: ProcessIdentity)
    /// pid 1, a kernel thread, numabalance itself, a zombie.
    case refused(pid: Int32, why: String)
    /// The kernel refused; the text names the missing capability.
    case notPermitted(String)
    case exited(pid: Int32)
    case unreadable(String)
    case failed(SyscallError)
    case journal(String)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid): "no process with pid \(pid)"
        case .processChanged(let expected, let found):
            "pid \(expected.pid) is now another process (started at tick \(found.startTime), "
                + "not \(expected.startTime)): not acting on a stranger"
        case .refused(let pid, let why): "not acting on pid \(pid): \(why)"
        case .notPermitted(let text): text
        case .exited(let pid): "pid \(pid) exited"
        case .unreadable(let text): text
        case .failed(let error): error.description
        case .journal(let text): "journal: \(text)"
        }
    }

    /// A /proc read error of `pid`, in the actuator's terms.
    static func from(_ error: ProcReadError, pid: Int32) -> ActuationError {
        switch error {
        case .noSuchProcess: .noSuchProcess(pid: pid)
        case .permissionDenied(_, let path):
            .notPermitted("permission denied reading \(path): another user's process needs CAP_SYS_PTRACE")
        default: .unreadable(error.description)
        }
    }
}

/// Where cgroup v2 is mounted: "/sys/fs/cgroup" on most systems, but e.g.
/// "/sys/fs/cgroup/unified" on hybrid hosts; read from /proc/self/mountinfo.
public enum CgroupMount {
    public static func v2Root(mountinfo path: String = "/proc/self/mountinfo") -> String? {
        guard let text = readText(path) else { return nil }
        return v2Root(parsing: text)
    }

    /// Each line: "id parent major:minor root mountpoint options… - fstype source superoptions".
    public static func v2Root(parsing text: String) -> String? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields.count > 4,
                  fields[dash + 1] == "cgroup2" else { continue }
            return unescapeMountPath(String(fields[4]))
        }
        return nil
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescapeMountPath(_ path: String) -> String {
        var result = path
        for (escape, plain) in [("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")] {
            result = result.split(separator: escape, omittingEmptySubsequences: false)
                .joined(separator: plain)
        }
        return result
    }
}
