import Glibc

/// Child processes started with posix_spawn(3) and reaped with waitpid(2):
/// the benchmarks' workloads. Not Foundation's Process: in a lab guest its
/// run loop's CFSocket could not be made and a benchmark hung.
public enum ChildProcess {
    /// posix_spawn(3) of `path` with `arguments` and this environment;
    /// stdout goes to `stdout` when given (else inherited). The caller
    /// blocks signals on some threads: the child gets an empty signal mask
    /// and SIGTERM's default action, or SIGTERM would never stop it.
    /// Returns the child's pid.
    public static func spawn(_ path: String, _ arguments: [String], stdout: Int32? = nil) -> Result<Int32, SystemError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), term = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&term)
        sigaddset(&term, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &term)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        // posix_spawn returns the error number itself.
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { return .failure(SystemError("posix_spawn \(path)", errno: rc)) }
        return .success(child)
    }

    /// waitpid(2): waits for the child `pid` to end and reaps it; its wait status.
    @discardableResult
    public static func wait(_ pid: Int32) -> Result<Int32, SystemError> {
        var status: Int32 = 0
        return Syscall.libc("waitpid \(pid)") { waitpid(pid, &status, 0) }.map { _ in status }
    }

    /// pipe(2), both ends close-on-exec (posix_spawn's dup2 clears it on the
    /// child's stdout): (read end, write end).
    public static func pipe() -> Result<(read: Int32, write: Int32), SystemError> {
        var fds: [Int32] = [0, 0]
        return Syscall.libcCheck("pipe") { Glibc.pipe(&fds) }.map {
            fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
    }
}
