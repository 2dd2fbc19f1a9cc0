import NUMAModel
import NUMAProc
import NUMASystem

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
    case failed(SystemError)
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
