import Foundation
import NUMAModel
import NUMASystem
import Synchronization
import Testing
@testable import NUMADaemon

/// The loop's sleep: until its next due time, cut short by another thread's
/// signal, and no signal lost between two sleeps.
@Suite("loop wake")
struct LoopWakeTests {
    @Test("with nothing signalled, the sleep lasts until its deadline")
    func sleepsUntilDeadline() {
        let wake = LoopWake()
        let start = Clock.monotonicSeconds()
        wake.sleep(until: start + 0.3)
        let slept = Clock.monotonicSeconds() - start
        #expect(slept >= 0.29 && slept < 1.0, "slept \(slept) s for 0.3 s")
    }

    @Test("a signal from another thread ends the sleep at once, long before its deadline")
    func signalEndsSleep() {
        let wake = LoopWake()
        let start = Clock.monotonicSeconds()
        let thread = Thread {
            usleep(100_000)
            wake.signal()
        }
        thread.start()
        wake.sleep(until: start + 10)
        let slept = Clock.monotonicSeconds() - start
        #expect(slept >= 0.09 && slept < 2, "slept \(slept) s; signalled after 0.1 s")
    }

    @Test("a signal sent while the loop is awake ends its next sleep at once; then the sleep is whole again")
    func signalBeforeSleepIsKept() {
        let wake = LoopWake()
        wake.signal()
        wake.signal()
        var start = Clock.monotonicSeconds()
        wake.sleep(until: start + 10)
        #expect(Clock.monotonicSeconds() - start < 1, "a signal sent before the sleep was lost")
        // Two signals, one read: the counter is cleared, not counted down.
        start = Clock.monotonicSeconds()
        wake.sleep(until: start + 0.2)
        #expect(Clock.monotonicSeconds() - start >= 0.19)
    }

    @Test("a mover's news wakes the loop: the end of a job")
    func moverNewsWakes() throws {
        let topology = Topology(nodes: [Node(id: 0, cpus: CPUSet([0]), memTotalBytes: 1 << 30, memFreeBytes: 1 << 30)],
                                distances: [[10]])
        let wakes = Atomic<Int>(0)
        let movers = try NodeMovers(topology: topology) { wakes.add(1, ordering: .relaxed) }
        try movers.start()
        defer { movers.stop() }
        #expect(wakes.load(ordering: .relaxed) == 0)
        _ = movers.submit(job: 1, pids: [7], to: 0) { _ in }
        let deadline = Clock.monotonicSeconds() + 5
        while wakes.load(ordering: .relaxed) < 1, Clock.monotonicSeconds() < deadline { usleep(1000) }
        #expect(wakes.load(ordering: .relaxed) == 1, "the end of the job did not wake the loop")
        guard case .finished(let job, _)? = movers.take().last else { Issue.record("no news of the job"); return }
        #expect(job == 1)
    }
}
