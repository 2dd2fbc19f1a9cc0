import Glibc

/// Signal handlers of the whole process. The daemon waits for its signals
/// in a task (UnixSignals); a command that must stop between two steps of
/// a long job sets a flag from a C handler here.
public enum Signals {
    /// A C signal handler: it may only do what is async-signal-safe (an atomic store).
    public typealias Handler = @convention(c) (Int32) -> Void

    public static let interrupt = SIGINT, terminate = SIGTERM

    /// signal(2): `handler` runs when `signal` arrives.
    public static func handle(_ signal: Int32, with handler: Handler) {
        _ = Glibc.signal(signal, handler)
    }
}
