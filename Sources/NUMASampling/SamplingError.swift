import NUMAModel
import NUMAProc
import NUMASystem

/// Why a process could not be observed. A process that exits is a normal
/// event for the daemon; the one-shot commands report it and exit 1.
public enum SamplingError: Error, CustomStringConvertible, Equatable {
    case noSuchProcess(pid: Int32)
    case kernelThread(pid: Int32, comm: String)
    /// The kernel refused a read of `pid`'s placement: `denied` is what
    /// (move_pages, or the /proc file); `explanation` says why, in words.
    case notPermitted(pid: Int32, denied: String, explanation: String)
    case unreadable(pid: Int32, detail: String)
    case probeFailed(pid: Int32, errno: Int32)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid):
            "no process with pid \(pid)"
        case .kernelThread(let pid, let comm):
            "pid \(pid) (\(comm)) is a kernel thread: it has no user memory to place"
        case .notPermitted(_, _, let explanation):
            explanation
        case .unreadable(let pid, let detail):
            "cannot read pid \(pid): \(detail)"
        case .probeFailed(let pid, let code):
            "move_pages on pid \(pid) failed: \(Errno.text(code))"
        }
    }
}
