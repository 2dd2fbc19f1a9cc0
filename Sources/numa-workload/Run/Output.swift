// Output lines and signals shared by every role of numa-workload.
import Glibc

enum Output {
    /// One whole line with one write(2): unbuffered, so a `ready` line is seen
    /// at once through a pipe or file, and lines of several processes sharing
    /// stdout never interleave mid-line.
    static func line(_ text: String) {
        write(text + "\n", to: STDOUT_FILENO)
    }

    static func error(_ text: String) {
        write("numa-workload: \(text)\n", to: STDERR_FILENO)
    }

    private static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            done += n
        }
    }
}

/// SIGTERM and SIGINT held pending and taken synchronously: the main thread
/// sleeps in sigtimedwait between progress lines, so a signal ends the run
/// cleanly (threads joined, memory released) instead of killing it midway.
/// Threads started after `block()` inherit the mask and never see them.
struct StopSignals {
    private var set = sigset_t()

    static func block() -> StopSignals {
        var signals = StopSignals()
        sigemptyset(&signals.set)
        sigaddset(&signals.set, SIGTERM)
        sigaddset(&signals.set, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals.set, nil)
        return signals
    }

    /// A pending stop signal, waiting at most `seconds`. Wraps sigtimedwait(2).
    func wait(seconds: Double) -> Int32? {
        let whole = max(0, seconds.rounded(.down))
        var timeout = timespec(tv_sec: Int(whole), tv_nsec: Int((max(0, seconds) - whole) * 1e9))
        var set = self.set
        let signal = sigtimedwait(&set, nil, &timeout)
        return signal > 0 ? signal : nil
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
