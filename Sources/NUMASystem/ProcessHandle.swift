import CLinux

/// A pidfd (Linux 5.3+): a descriptor that names one process for as long as
/// it is open, so its exit is seen and a signal never reaches a process
/// that was given the same pid later.
public struct ProcessHandle: Sendable {
    public let pid: Int32
    public let fd: Int32

    /// pidfd_open(2) of `pid` (clinux_pidfd_open). Check the process is the
    /// one meant after opening: the pidfd then surely refers to it.
    public static func open(pid: Int32) -> Result<ProcessHandle, SystemError> {
        Syscall.call("pidfd_open of pid \(pid)") { clinux_pidfd_open(pid) }
            .map { ProcessHandle(pid: pid, fd: $0) }
    }

    /// Whether the process has exited: poll(2) of the pidfd
    /// (clinux_pidfd_exited). An error answers true: nothing is known to run.
    public var hasExited: Bool { clinux_pidfd_exited(fd) != 0 }

    /// pidfd_send_signal(2) (clinux_pidfd_send_signal).
    public func signal(_ signal: Int32) -> Result<Void, SystemError> {
        Syscall.check("pidfd_send_signal to pid \(pid) of signal \(signal)") { clinux_pidfd_send_signal(fd, signal) }
    }

    public func close() { FileIO.close(fd) }
}
