// The main thread of a single-process scenario while its sweep threads run.
import Glibc

/// The main thread's part while sweep threads run: a progress line a second
/// until --seconds pass or a stop signal comes; then it stops the threads.
enum Progress {
    static func run(pid: pid_t, state: SweepState, signals: StopSignals, length: RunLength) {
        let deadline = length.seconds.map { monotonicSeconds() + $0 }
        while true {
            let wait = min(1.0, deadline.map { $0 - monotonicSeconds() } ?? 1.0)
            if wait <= 0 || signals.wait(seconds: wait) != nil { break }
            Output.line("pid=\(pid) iter=\(state.sweeps.load(ordering: .relaxed))")
        }
        state.stop.store(true, ordering: .relaxed)
    }

    /// Progress until the end, then the threads stopped and joined and the
    /// `done` line: the tail of every single-process scenario.
    static func runToEnd(pid: pid_t, state: SweepState, signals: StopSignals, length: RunLength,
                         threads: [pthread_t]) {
        run(pid: pid, state: state, signals: signals, length: length)
        SweepThreads.join(threads)
        Output.line("done pid=\(pid) iter=\(state.sweeps.load(ordering: .relaxed))")
    }
}
