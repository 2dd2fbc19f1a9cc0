import NUMAModel

/// The placement engine: observations in, a plan out. Pure and
/// deterministic — no I/O, no clock (time is an input), no randomness — with
/// its memory across rounds in a value (`EngineState`).
///
/// ```swift
/// var engine = PlacementEngine(config: PlacementConfig(mode: .standalone))
/// let plan = engine.plan(topology: topology, observations: observations, now: 12.0)
/// ```
public struct PlacementEngine: Sendable {
    public var config: PlacementConfig
    public private(set) var state: EngineState

    public init(config: PlacementConfig = PlacementConfig()) {
        self.config = config
        state = EngineState(budget: MigrationBudget(bytesPerSecond: config.budgetBytesPerSecond,
                                                    burstSeconds: config.budgetBurstSeconds))
    }

    /// Forgets processes that exited: their state goes, and with it the load
    /// they last put on a node. (Without this call they are forgotten after
    /// `forgetAfterSeconds` unseen.)
    public mutating func forget(_ gone: Set<ProcessIdentity>) {
        state.forget(gone)
    }

    /// One round: update the statistics of the observed processes, form
    /// groups, place threads, then memory, then set each process's scan period.
    /// `failedMigrations` are processes whose last moves the actuator could not
    /// carry out (their scan period backs off). `nodeBusy`: each node's
    /// measured busy CPU time over the last interval, in milli-CPUs (from
    /// /proc/stat); what the engine was not given (processes under a policy,
    /// small ones, kernel threads, interrupts) then counts on its node too.
    public mutating func plan(topology: Topology, observations: [Observation], now: Double,
                              failedMigrations: Set<ProcessIdentity> = [],
                              nodeBusy: [NodeID: Int] = [:]) -> Plan
    {
        let nodes = NodeTable(topology: topology, reserveFraction: config.reserveFraction)
        // Take the state out so the round owns it uniquely (no copy on write).
        var working = state
        state = EngineState(budget: working.budget)
        working.round &+= 1
        working.forget(olderThan: config.forgetAfterSeconds, now: now)
        working.budget.refill(now: now)
        let input = RoundInput(observations: observations, nodes: nodes, mode: config.mode) {
            working.engineAffinity(of: $0)
        }
        working.reserve(observations.count)
        let slots = working.slots(for: input.identities, nodeCount: nodes.count,
                                  scanPeriod: config.scanPeriodMin, now: now)
        // The decayed statistics of this round's processes, as flat rows for the units.
        var decayed = DecayedRows(processes: input.count, nodes: nodes.count)
        for p in 0..<input.count {
            working.update(slot: slots[p], from: input, process: p, now: now, decayed: &decayed)
        }
        var round = PlacementRound(config: config, nodes: nodes, input: input, state: consume working, slot: slots,
                                   decayed: decayed, now: now, nodeBusy: nodeBusy)
        round.placeTasks()
        round.emitThreadActions()
        round.placeMemory()
        let scans = round.updateScanPeriods(failed: failedMigrations)
        state = round.state
        return Plan(time: now, mode: config.mode, actions: round.actions + round.memoryActions,
                    deferred: round.deferred, scans: scans)
    }
}

/// Decayed memory and CPU faults of the round's processes, in flat rows.
struct DecayedRows {
    let nodeCount: Int
    private(set) var mem: [Int]
    private(set) var cpu: [Int]

    init(processes: Int, nodes: Int) {
        nodeCount = nodes
        mem = Array(repeating: 0, count: processes * nodes)
        cpu = Array(repeating: 0, count: mem.count)
    }

    mutating func copy(_ stats: FaultStats, into p: Int) {
        guard stats.nodeCount == nodeCount else { return }
        stats.copyMemAndCPU(into: &mem, &cpu, at: p * nodeCount)
    }
}

extension PlacementRound {
    /// update_task_scan_period for every observed process: "local" counts
    /// what the plan makes local, as the kernel counts a migrated fault.
    mutating func updateScanPeriods(failed: Set<ProcessIdentity>) -> [ScanSchedule] {
        var scans: [ScanSchedule] = []
        scans.reserveCapacity(input.count)
        for p in 0..<input.count {
            let samples = Double(input.samples[p])
            let shared = Double(input.sharedSamples[p])
            let local = (expectedLocality[p] ?? input.locality[p] ?? 0) * samples
            let signal = ScanPeriod.Signal(local: local, remote: samples - local,
                                           privateFaults: max(0, samples - shared), sharedFaults: shared,
                                           migrationFailed: !failed.isEmpty && failed.contains(identity(p)))
            let next = ScanPeriod.next(period: state[slot[p]].scanPeriod, signal: signal,
                                       min: config.scanPeriodMin, max: config.scanPeriodMax)
            let due = now + (budgetWaiting.contains(p) ? min(next.period, config.scanPeriodMin) : next.period)
            state[slot[p]].scanPeriod = next.period
            state[slot[p]].nextScan = due
            scans.append(ScanSchedule(process: identity(p), periodSeconds: next.period, nextScan: due))
        }
        return scans
    }
}
