import NUMASystem
import Synchronization

/// The loop's sleep, cut short when another thread leaves it work: an
/// eventfd that the sampler threads (a round's last sample back), the
/// movers, the event and match threads, a reload and the stop request
/// signal. Between those the loop sleeps until its next due time, not a
/// tenth of a second: the idle daemon's 10 Hz wake-ups were an eighth of
/// its CPU time (perf, `Tests/Benchmarks/daemon-cpu --perf`).
final class LoopWake: Sendable {
    /// nil when no eventfd could be made: the loop then sleeps a tick at most.
    private let fd: Int32?
    /// Sleeps that ended at their deadline, and those a signal cut short.
    private let timed = Atomic<Int>(0), signalled = Atomic<Int>(0)

    init() { fd = try? WakeUp.make().get() }

    /// How many sleeps ended at their deadline and how many by a signal
    /// (`status`: a busy loop shows which).
    var wakeups: (timer: Int, signalled: Int) {
        (timed.load(ordering: .relaxed), signalled.load(ordering: .relaxed))
    }

    deinit { if let fd { FileIO.close(fd) } }

    /// Wakes the loop now, or at once from its next sleep if it is awake.
    func signal() {
        if let fd { WakeUp.signal(fd) }
    }

    /// Sleeps until `deadline` (monotonic seconds) or a signal.
    func sleep(until deadline: Double) {
        guard let fd else {
            timed.add(1, ordering: .relaxed)
            return Clock.sleep(seconds: min(Self.fallbackTick, max(0, deadline - Clock.monotonicSeconds())))
        }
        // Readable: signalled; one read clears the counter.
        if Poll.wait(fd, for: .readable, until: deadline) {
            _ = FileIO.readOnce(fd: fd, count: 8, name: "the loop's eventfd")
            signalled.add(1, ordering: .relaxed)
        } else {
            timed.add(1, ordering: .relaxed)
        }
    }

    /// The longest sleep without an eventfd (signals are not seen then).
    static let fallbackTick = 0.1
}
