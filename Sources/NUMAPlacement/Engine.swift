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

    /// Memory moves of the last plan that were not made (the daemon's
    /// admission held them back, a policy's or the journal's rule): their
    /// ranges may move at the next look, and their bytes go back to the
    /// budget. Without this the engine took them as moved, and their ranges
    /// sat out the cool-down unmoved.
    public mutating func notMade(_ actions: [Action], plannedAt time: Double) {
        for action in actions where action.bytes > 0 {
            switch action {
            case .moveRanges, .movePages:
                for identity in action.processes { state.unmark(identity, movedAt: time) }
                state.budget.refund(action.bytes)
            default: continue
            }
        }
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
        working.forget(olderThan: config.stateLifetime, now: now)
        working.budget.refill(now: now)
        let input = RoundInput(observations: observations, nodes: nodes, mode: config.mode) {
            working.engineAffinity(of: $0)
        }
        working.reserve(observations.count)
        let slots = working.slots(for: input.identities, nodeCount: nodes.count,
                                  scanPeriod: config.scanPeriodMin, now: now)
        // The decayed statistics of this round's processes, as flat rows for the units.
        var decayed = DecayedRows(processes: input.count, nodes: nodes.count)
        for p in input.processes {
            working.update(slot: slots[p.row], from: input, process: p, now: now, decayed: &decayed)
        }
        var round = PlacementRound(config: config, nodes: nodes, input: input, state: consume working, slot: Rows(slots),
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
    private(set) var mem: NodeRows<ProcessIndex, Int>
    private(set) var cpu: NodeRows<ProcessIndex, Int>

    init(processes: Int, nodes: Int) {
        nodeCount = nodes
        mem = NodeRows(repeating: 0, rows: processes, nodeCount: nodes)
        cpu = mem
    }

    mutating func copy(_ stats: FaultStats, into p: ProcessIndex) {
        guard stats.nodeCount == nodeCount else { return }
        for k in mem.nodes {
            mem[p, k] = stats.mem(k.row)
            cpu[p, k] = stats.cpu(k.row)
        }
    }
}

extension PlacementRound {
    /// update_task_scan_period for every observed process, with the kernel's
    /// inputs: faults local as measured this round (a fault the plan will
    /// migrate was remote when it happened: numa_migrate_prep counts only a
    /// page already on the faulting node); a group's shared page on one of
    /// its active nodes counts local; shared means accessed by others (a
    /// group's object), not merely in a shared mapping. A task whose threads
    /// moved to another node starts again at the shortest period.
    mutating func updateScanPeriods(failed: Set<ProcessIdentity>) -> [ScanSchedule] {
        var scans: [ScanSchedule] = []
        scans.reserveCapacity(input.count)
        for p in input.processes {
            let u = units.unitOf[p]
            let group = units.isGroup(u)
            let (local, samples, shared) = scanFaults(p, unit: u, group: group)
            let signal = ScanPeriod.Signal(local: local, remote: samples - local,
                                           privateFaults: max(0, samples - shared), sharedFaults: shared,
                                           migrationFailed: !failed.isEmpty && failed.contains(identity(p)))
            let node = processNode(p)
            let before = state.processes[slot[p]].scannedOn
            let moved = node != nil && before != nil && node != before
            state[slot[p]].scannedOn = node
            let period = moved ? config.scanPeriodMin
                : ScanPeriod.next(period: state[slot[p]].scanPeriod, signal: signal,
                                  min: config.scanPeriodMin, max: config.scanPeriodMax).period
            let due = now + (budgetWaiting.contains(p) ? min(period, config.scanPeriodMin) : period)
            state[slot[p]].scanPeriod = period
            state[slot[p]].nextScan = due
            scans.append(ScanSchedule(process: identity(p), periodSeconds: period, nextScan: due))
        }
        return scans
    }

    /// Local, all and shared sampled faults of p for its scan period.
    private func scanFaults(_ p: ProcessIndex, unit u: UnitIndex, group: Bool) -> (local: Double, all: Double, shared: Double) {
        if input.usesKernelFaults[p] {
            // The kernel's own counts: locality as the sampler measured it.
            let samples = Double(input.samples[p])
            let local = (input.locality[p] ?? 0) * samples
            return (local, samples, group ? Double(input.sharedSamples[p]) : 0)
        }
        let cpuTotal = input.threadMillis.total(p)
        var active = NodeMask()
        if group { for k in ActiveNodes.of(cpuFaults: units.cpuRow(u)) { active.insert(NodeIndex(k)) } }
        var local = 0.0, all = 0.0, shared = 0.0
        for k in nodes.all {
            let pages = Double(input.pages[p, k])
            let sharedHere = group ? Double(input.sharedPages(p, k)) : 0
            all += pages
            shared += sharedHere
            let cpuShare = cpuTotal > 0 ? Double(input.threadMillis[p, k]) / Double(cpuTotal) : 0
            local += (pages - sharedHere) * cpuShare
            // A shared page on a node the group actively uses is local (task_numa_fault).
            local += active.count > 1 && active.contains(k) ? sharedHere : sharedHere * cpuShare
        }
        return (local, all, shared)
    }

    /// The node p's threads ran on this round (carrying settledLoadShare of its load), if one.
    func processNode(_ p: ProcessIndex) -> NodeIndex? {
        var best: NodeIndex?, bestLoad = 0, total = 0
        for k in nodes.all {
            let load = input.load[p, k]
            total += load
            if load > bestLoad { best = k; bestLoad = load }
        }
        guard Double(bestLoad) >= Double(total) * config.settledLoadShare else { return nil }
        return best
    }
}
