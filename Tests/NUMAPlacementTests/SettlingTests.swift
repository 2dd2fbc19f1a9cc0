import NUMAModel
import Testing
import NUMAPlacement

/// A process still growing is placed only once it settles: numa01's workers
/// start after their buffer is touched, and a pin taken during the touching
/// would count one thread where two will run.
@Suite("still allocating")
struct AllocatingRuleTests {
    let mib: UInt64 = 1 << 20

    @Test("grown by more than a sixteenth and 4 MiB: still allocating")
    func growing() {
        #expect(Settling.stillAllocating(before: 20 * mib, now: 40 * mib))
        #expect(Settling.stillAllocating(before: 512 * mib, now: 560 * mib))
        #expect(Settling.stillAllocating(before: 19 * mib, now: 25 * mib), "a slow toucher, seen a round apart")
    }

    @Test("looks sooner than a second apart: the growth asked for scales with the time between them")
    func soonerLooks() {
        // A toucher at 10 MiB/s, looked at 300 ms apart, grew 3 MiB: still allocating.
        #expect(Settling.stillAllocating(before: 64 * mib, now: 67 * mib, seconds: 0.3))
        #expect(!Settling.stillAllocating(before: 64 * mib, now: 67 * mib, seconds: 1))
        // A steady process, looked at 300 ms apart: settled.
        #expect(!Settling.stillAllocating(before: 64 * mib, now: 65 * mib, seconds: 0.3))
        // Longer than a second apart asks no more than a second's growth.
        #expect(Settling.stillAllocating(before: 64 * mib, now: 69 * mib, seconds: 30))
    }

    @Test("the first look, a small or slow growth, a shrink: settled")
    func settled() {
        #expect(!Settling.stillAllocating(before: nil, now: 64 * mib))
        #expect(!Settling.stillAllocating(before: 64 * mib, now: 67 * mib), "under 4 MiB")
        #expect(!Settling.stillAllocating(before: 1024 * mib, now: 1060 * mib), "under a sixteenth")
        #expect(!Settling.stillAllocating(before: 64 * mib, now: 32 * mib))
    }

    @Test("a first look, or a changed thread count, is still setting up; a steady process is not")
    func settling() {
        func observed(threads: Int, rss: UInt64) -> Observation {
            Observation(identity: ProcessIdentity(pid: 10, startTime: 1), comm: "w", time: 1, intervalSeconds: 1,
                        pages: .empty,
                        threads: (0..<threads).map { ThreadActivity(tid: Int32(10 + $0), cpuSeconds: 1, lastCPU: 0,
                                                                    node: NodeID(0), state: "R") },
                        allowedCPUs: CPUSet([0]), allowedNodes: [], rssBytes: rss, eligibleBytes: rss)
        }
        let steady = observed(threads: 3, rss: 84 * mib)
        #expect(Settling.reason(previous: nil, previousRSS: 84 * mib, now: steady)?.contains("first look") == true)
        #expect(Settling.reason(previous: observed(threads: 1, rss: 84 * mib), previousRSS: 84 * mib, now: steady)?
            .contains("threads 1 → 3") == true)
        #expect(Settling.reason(previous: observed(threads: 3, rss: 19 * mib), previousRSS: 19 * mib, now: steady)?
            .contains("19 MiB → 84 MiB") == true)
        #expect(Settling.reason(previous: steady, previousRSS: 84 * mib, now: steady) == nil)
    }

    @Test("once settled, growth is not setting up: a PostgreSQL backend touching more of the shared buffers is placed")
    func settledForGood() {
        func observed(rss: UInt64) -> Observation {
            Observation(identity: ProcessIdentity(pid: 10, startTime: 1), comm: "postgres", time: 1, intervalSeconds: 1,
                        pages: .empty,
                        threads: [ThreadActivity(tid: 10, cpuSeconds: 1, lastCPU: 0, node: NodeID(0), state: "R")],
                        allowedCPUs: CPUSet([0]), allowedNodes: [], rssBytes: rss, eligibleBytes: rss)
        }
        // Its resident memory grew 45 → 53 MiB since the last look.
        let before = observed(rss: 45 * mib), now = observed(rss: 53 * mib)
        #expect(Settling.reason(settled: false, rounds: 0, previous: before, previousRSS: 45 * mib, now: now) != nil)
        #expect(Settling.reason(settled: true, rounds: 0, previous: before, previousRSS: 45 * mib, now: now) == nil)
        #expect(Settling.reason(settled: false, rounds: Settling.roundsMax, previous: before,
                                previousRSS: 45 * mib, now: now) == nil)
    }
}
