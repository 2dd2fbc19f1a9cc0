import NUMAModel
@testable import NUMAPlacement
import Testing

/// One test per kernel rule, each with expectations computed by hand.
@Suite("Kernel rules")
struct KernelRuleTests {
    // MARK: update_task_scan_period

    private func advance(_ period: Double, local: Double, remote: Double, priv: Double, shared: Double,
                      failed: Bool = false) -> (Double, ScanPeriod.Step) {
        let result = ScanPeriod.next(period: period,
                                     signal: .init(local: local, remote: remote, privateFaults: priv,
                                                   sharedFaults: shared, migrationFailed: failed),
                                     min: 1, max: 60)
        return (result.period, result.step)
    }

    @Test("scan period: ps ≥ 7 grows by max(1, ps − 7) slots of period/10")
    func scanPeriodPrivateGrows() {
        // 2 s → slot 200 ms; ps = 10 → 3 slots → 2.6 s.
        let (period, step) = advance(2, local: 1, remote: 9, priv: 10, shared: 0)
        #expect(step == .growPrivate)
        #expect(abs(period - 2.6) < 1e-9)
        // ps = 7 exactly → max(1, 0) = 1 slot.
        let (seven, _) = advance(2, local: 1, remote: 9, priv: 7, shared: 3)
        #expect(abs(seven - 2.2) < 1e-9)
    }

    @Test("scan period: else lr ≥ 7 grows by max(1, lr − 7) slots")
    func scanPeriodLocalGrows() {
        // ps = 2, lr = 9 → 2 slots of 300 ms: 3 s → 3.6 s.
        let (period, step) = advance(3, local: 9, remote: 1, priv: 2, shared: 8)
        #expect(step == .growLocal)
        #expect(abs(period - 3.6) < 1e-9)
    }

    @Test("scan period: else shrinks by 7 − max(lr, ps) slots")
    func scanPeriodShrinks() {
        // lr = 3, ps = 5 → 2 slots of 400 ms: 4 s → 3.2 s.
        let (period, step) = advance(4, local: 3, remote: 7, priv: 5, shared: 5)
        #expect(step == .shrink)
        #expect(abs(period - 3.2) < 1e-9)
    }

    @Test("scan period: local + shared == 0 (the kernel's test, not local + remote) doubles")
    func scanPeriodBacksOff() {
        // All remote and private: the code doubles, whatever its comment says.
        #expect(advance(2, local: 0, remote: 10, priv: 10, shared: 0) == (4, .backOff))
        #expect(advance(2, local: 0, remote: 0, priv: 0, shared: 0) == (4, .backOff))
        // A failed migration doubles too; the result is clamped to max.
        #expect(advance(40, local: 9, remote: 1, priv: 9, shared: 1, failed: true) == (60, .backOff))
    }

    @Test("scan period: slot = DIV_ROUND_UP(period_ms, 10); clamped to [min, max]")
    func scanPeriodSlotRounding() {
        // 1005 ms → slot 101 ms; ps = 8 → 1 slot → 1.106 s.
        let (period, _) = advance(1.005, local: 0, remote: 1, priv: 8, shared: 2)
        #expect(abs(period - 1.106) < 1e-9)
        // Shrinking below min stops at min: 1 s, lr = 0, ps = 0 → −7 slots → 1 s.
        #expect(advance(1, local: 0, remote: 10, priv: 0, shared: 10).0 == 1)
    }

    // MARK: task_numa_placement decay

    @Test("decay: new = ceil(old / 2) + this round")
    func decay() {
        #expect(FaultStats.decay(7, adding: 3) == 7)   // ceil(3.5) = 4, + 3
        #expect(FaultStats.decay(8, adding: 0) == 4)
        #expect(FaultStats.decay(1, adding: 0) == 1)   // ceil(0.5): a lone fault never decays to 0
        var stats = FaultStats(nodeCount: 2)
        stats.accumulate(mem: [10, 0], cpu: [0, 1000], sharedMem: [0, 0], base: 0, count: 2)
        stats.accumulate(mem: [0, 10], cpu: [0, 1000], sharedMem: [0, 0], base: 0, count: 2)
        stats.accumulate(mem: [0, 10], cpu: [0, 1000], sharedMem: [0, 0], base: 0, count: 2)
        // mem[0]: 10 → 5 → 3; mem[1]: 0 → 10 → 15; cpu[1]: 1000 → 1500 → 1750.
        #expect(stats.mem == [3, 15])
        #expect(stats.cpu == [0, 1750])
        #expect(stats.weight(1) == 833)   // task_weight: 1000 · 15 / 18
    }

    // MARK: ACTIVE_NODE_FRACTION

    @Test("active nodes: CPU faults above 1/3 of the busiest node's")
    func activeNodes() {
        #expect(ActiveNodes.of(cpuFaults: [90, 31, 30, 0]) == [0, 1])
        #expect(ActiveNodes.of(cpuFaults: [10, 4, 3]) == [0, 1])   // 4·3 > 10, 3·3 ≤ 10
        #expect(ActiveNodes.of(cpuFaults: [0, 0]) == [])
    }

    // MARK: should_numa_migrate_memory for groups

    @Test("3/4 rule: cpu(d) > 3·cpu(s), else cpu(d)·mem(s)·3 > cpu(s)·mem(d)·4")
    func threeQuarterRule() {
        #expect(GroupMigrationRule.allows(cpuDestination: 40, cpuSource: 10, memDestination: 900, memSource: 1))
        // 20·100·3 = 6000 > 10·100·4 = 4000.
        #expect(GroupMigrationRule.allows(cpuDestination: 20, cpuSource: 10, memDestination: 100, memSource: 100))
        // Equal CPU: 10·100·3 = 3000 vs 10·80·4 = 3200 → stays; vs 10·70·4 = 2800 → moves.
        #expect(!GroupMigrationRule.allows(cpuDestination: 10, cpuSource: 10, memDestination: 80, memSource: 100))
        #expect(GroupMigrationRule.allows(cpuDestination: 10, cpuSource: 10, memDestination: 70, memSource: 100))
        // cpu(d) = 3·cpu(s) exactly is not "much busier": falls to the hysteresis.
        #expect(!GroupMigrationRule.allows(cpuDestination: 30, cpuSource: 10, memDestination: 200, memSource: 50))
    }

    // MARK: task_numa_compare

    @Test("SMALLIMP: a swap must improve by at least 30")
    func smallImp() {
        #expect(!SwapRule.beats(29, best: 0))
        #expect(SwapRule.beats(30, best: 0))
    }

    @Test("best+15: a new best must beat the old by strictly more than SMALLIMP/2")
    func bestPlusFifteen() {
        #expect(!SwapRule.beats(45, best: 30))
        #expect(SwapRule.beats(46, best: 30))
    }

    @Test("swap score: +1/8 if the other prefers the source, −1/16 if it prefers the destination")
    func swapAdjustments() {
        // taskimp 500; the other loses w(dst) − w(src) = 300 − 100: imp = 300.
        func imp(_ src: Bool, _ dst: Bool) -> Int {
            SwapRule.improvement(taskImprovement: 500, otherWeightAtSource: 100, otherWeightAtDestination: 300,
                                 otherPrefersSource: src, otherPrefersDestination: dst)
        }
        #expect(imp(false, false) == 300)
        #expect(imp(false, true) == 282)   // 300 − 300/16
        #expect(imp(true, false) == 337)   // 300 + 300/8
    }

    // MARK: load_too_imbalanced

    @Test("imbalance rule: |dst·src_cap − src·dst_cap| must not grow")
    func imbalanceRule() {
        #expect(Capacity.imbalance(sourceLoad: 3000, destinationLoad: 1000, sourceCapacity: 4000,
                                   destinationCapacity: 4000) == 8_000_000)
        // 3000/1000 → 2000/2000: 0, allowed; → 1000/3000: 8e6, equal, allowed; → 0/4000: 16e6, not.
        #expect(Capacity.keepsBalance(load: 1000, sourceLoad: 3000, destinationLoad: 1000, sourceCapacity: 4000,
                                      destinationCapacity: 4000))
        #expect(Capacity.keepsBalance(load: 2000, sourceLoad: 3000, destinationLoad: 1000, sourceCapacity: 4000,
                                      destinationCapacity: 4000))
        #expect(!Capacity.keepsBalance(load: 3000, sourceLoad: 3000, destinationLoad: 1000,
                                       sourceCapacity: 4000, destinationCapacity: 4000))
        // Capacities weigh in: 8-CPU source at 6000, 4-CPU destination at 1000.
        // Before |1000·8000 − 6000·4000| = 16e6; moving 2000: |3000·8000 − 4000·4000| = 8e6.
        #expect(Capacity.keepsBalance(load: 2000, sourceLoad: 6000, destinationLoad: 1000, sourceCapacity: 8000,
                                      destinationCapacity: 4000))
        // A swap of a 1000 load for a 0 load onto a node at 3000 of 4000 from one at 1000:
        // destination 4000 fits, but |4000·4000 − 0| = 16e6 > |3000·4000 − 1000·4000| = 8e6.
        #expect(!Capacity.maySwap(loadA: 1000, loadB: 0, sourceLoad: 1000, destinationLoad: 3000,
                                  sourceCapacity: 4000, destinationCapacity: 4000))
    }

    @Test("thread capacity: never more runnable load on a node than its CPUs")
    func threadCapacity() {
        #expect(Capacity.mayMove(load: 1000, destinationLoad: 3000, destinationCapacity: 4000))
        #expect(!Capacity.mayMove(load: 1000, destinationLoad: 3500, destinationCapacity: 4000))
        // A runnable thread counts a whole CPU; a sleeping one its share.
        #expect(Capacity.runnableLoad(cpuSeconds: 0.2, intervalSeconds: 1, state: "R") == 1000)
        #expect(Capacity.runnableLoad(cpuSeconds: 0.25, intervalSeconds: 1, state: "S") == 250)
        // A swap may not overfill either node.
        #expect(!Capacity.maySwap(loadA: 2000, loadB: 1000, sourceLoad: 2000, destinationLoad: 3500,
                                  sourceCapacity: 4000, destinationCapacity: 4000))
    }
}
