import CLinux
import Glibc

/// Facts about this process and machine that libc answers: ids, page size,
/// clock ticks; and signals to other processes.
public enum Host {
    public static var pid: Int32 { getpid() }
    public static var uid: UInt32 { getuid() }
    public static var effectiveUID: UInt32 { geteuid() }
    public static var isRoot: Bool { geteuid() == 0 }
    /// The kernel's id of the calling thread.
    public static var tid: Int32 { clinux_gettid() }

    /// Names the calling thread for the kernel (/proc/PID/task/TID/comm,
    /// `top -H`): at most 15 bytes are kept. Foundation's `Thread.name` does
    /// not reach the kernel here.
    public static func nameThisThread(_ name: String) { _ = clinux_set_thread_name(name) }

    /// The base page size (4 KiB on x86-64).
    public static let pageSize: Int = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)

    /// USER_HZ, the unit of /proc's CPU times (100 on every Linux we meet).
    public static let clockTicksPerSecond: Int = max(Int(sysconf(Int32(_SC_CLK_TCK))), 1)

    /// CPUs configured (online or not).
    public static var configuredCPUs: Int { max(Int(sysconf(Int32(_SC_NPROCESSORS_CONF))), 1) }

    /// kill(2): sends `signal` (0 only asks whether the process exists and
    /// may be signalled).
    public static func signal(_ pid: Int32, _ signal: Int32) -> Result<Void, SystemError> {
        Syscall.libcCheck("kill of pid \(pid) with signal \(signal)") { kill(pid, signal) }
    }

    public static let sigterm = SIGTERM, sigkill = SIGKILL, sigint = SIGINT, sighup = SIGHUP, sigstop = SIGSTOP,
        sigcont = SIGCONT

    /// Whether a descriptor is a terminal (for progress lines and colour).
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Ignores SIGPIPE for the whole process: a client that hangs up is an
    /// EPIPE from send or write, not the end of the daemon.
    public static func ignoreBrokenPipes() { _ = Glibc.signal(SIGPIPE, SIG_IGN) }
}

extension Host {
    /// execvp(3): replaces this process with `arguments[0]`, searched in
    /// PATH (what `numabalance exec` runs, with the policy it set inherited).
    /// Returns only on failure, with why.
    public static func exec(_ arguments: [String]) -> SystemError {
        guard let program = arguments.first else { return SystemError("execvp of an empty command", errno: EINVAL) }
        let pointers = arguments.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        while true {
            _ = execvp(program, pointers)
            if errno != EINTR { break }
        }
        return SystemError("execvp of \(program)", errno: errno)
    }
}
