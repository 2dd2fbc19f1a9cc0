import Glibc

/// The clocks: CLOCK_MONOTONIC for intervals and deadlines, CLOCK_REALTIME
/// for what a person reads; and a blocking sleep for plain threads.
public enum Clock {
    /// Seconds on CLOCK_MONOTONIC (never steps back; stops in suspend).
    public static func monotonicSeconds() -> Double { seconds(CLOCK_MONOTONIC) }

    /// Seconds on CLOCK_BOOTTIME (counts suspend too): the clock of /proc's start times.
    public static func bootSeconds() -> Double { seconds(CLOCK_BOOTTIME) }

    /// Seconds since the epoch on CLOCK_REALTIME.
    public static func wallSeconds() -> Double { seconds(CLOCK_REALTIME) }

    /// CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID):
    /// what a computation cost, whatever else the machine was doing.
    public static func threadCPUSeconds() -> Double { seconds(CLOCK_THREAD_CPUTIME_ID) }

    /// This process's CPU time, user and system, over all its threads
    /// (getrusage RUSAGE_SELF): the daemon's own cost, a benchmark's.
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Blocks the calling thread (samplers and the actuator are plain
    /// threads, not tasks), resuming the rest of the time after a signal.
    public static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }

    /// `sleep(seconds:)` for a Duration.
    public static func sleep(for duration: Duration) {
        let (whole, attoseconds) = duration.components
        sleep(seconds: Double(whole) + Double(attoseconds) / 1e18)
    }

    private static func seconds(_ clock: clockid_t) -> Double {
        var now = timespec()
        clock_gettime(clock, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
