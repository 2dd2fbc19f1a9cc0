import Foundation
import Logging
import NUMAActuation
import NUMABalancing
import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMAProc
import NUMASampling
import NUMATopology
import Synchronization

/// From a round's observations to the actions: the engine or the policy.
extension Balancer {
    func balance(_ outcomes: [SamplingOutcome], now: Double) {
        var autoObservations: [Observation] = []
        var directed: [(Observation, PolicyDirective, Policy)] = []
        for outcome in outcomes {
            switch outcome {
            case .observed(let report, _):
                switch route(report, now: now) {
                case .engine(let observation)?: autoObservations.append(observation)
                case .policy(let observation, let directive, let policy)?: directed.append((observation, directive, policy))
                case nil: break
                }
            case .failed(let pid, let error, _):
                failed(pid: pid, error: error, now: now)
            }
        }
        refreshTopology(now: now)
        var actions = autoObservations.isEmpty ? [] : planWithEngine(autoObservations, now: now)
        actions += DirectivePlanner.oncePerObject(directed.flatMap { observation, directive, policy in
            DirectivePlanner.plan(directive, observation: observation, topology: machine.topology, policyName: policy.name,
                                  migrate: policy.memory.migrate, sharedObjects: policy.memory.sharedObjects)
        })
        guard !actions.isEmpty else { return }
        act(actions, now: now)
    }

    /// Who places an observed process this round.
    enum Route {
        case engine(Observation)
        case policy(Observation, PolicyDirective, Policy)
    }

    /// Files a sampling report: the process's settling, its pin's owner,
    /// its group hint, its next look; and who places it now, if anyone (nil:
    /// not this round, or not a process we track any more).
    func route(_ report: SamplingReport, now: Double) -> Route? {
        var observation = report.observation
        let pid = observation.identity.pid
        processes.inFlight.remove(pid)
        guard let entry = processes.tracked[pid], entry.identity == observation.identity else { return nil }
        if !report.forgedSegments.isEmpty, !entry.forgeryLogged {
            entry.forgeryLogged = true
            logger.warning("refused a forged SysV segment", metadata: [
                "pid": "\(pid)", "comm": "\(entry.comm)",
                "mappings": "\(report.forgedSegments.joined(separator: "; "))",
            ])
        }
        let firstRound = entry.last == nil && !entry.primed
        let previousRSS = entry.last?.rssBytes ?? entry.foundRSS
        // Setting up is a start's business: once settled, a process
        // whose resident memory keeps growing (a PostgreSQL backend
        // touching more of the shared buffers, a heap) is placed as it is.
        let settlingReason = Settling.reason(settled: entry.settled, rounds: entry.settlingRounds,
                                             previous: entry.last, previousRSS: previousRSS, now: observation)
        entry.settlingRounds = settlingReason == nil ? 0 : entry.settlingRounds + 1
        if settlingReason == nil, !firstRound { entry.settled = true }
        entry.lastSamples = max(256, report.design.pages)
        acts.totals.rounds += 1
        acts.totals.samples += report.design.pages
        Ownership.annotate(&observation, own: entry.ownAffinity, topology: machine.topology)
        observation.groupHint = groupHint(entry.policy, observation: observation)
        if entry.policy.placement.group == .none { observation.sharedObjects = [] }
        entry.previousCPURate = entry.last.map(Admission.busyRate)
        entry.last = observation
        // Until the next plan says otherwise (a settled directive: its cool-down).
        entry.nextLook = onRoundGrid(now + engine.config.scanPeriodMin)
        if let directive = entry.policy.directive(topology: machine.topology) {
            // Acted on at once (threads pinned early make its first
            // touches local), then looked at again next round while it
            // is still setting up (its own affinity calls, its workers,
            // its heap), and at the policy's cool-down once settled.
            if settlingReason == nil {
                entry.nextLook = now + (entry.policy.balancing.cooldown ?? settings.config.balancing.cooldown).inSeconds
            }
            return .policy(observation, directive, entry.policy)
        }
        if firstRound {
            // Its CPU baseline only: the engine would read the empty
            // interval as "no accesses" and lengthen the scan period.
            return nil
        }
        if let why = settlingReason {
            // Looked at again a round later, not sooner: looks a few hundred
            // milliseconds apart caught start-ups between two bursts (a
            // runtime's own set-up, before its heap) and read them as
            // settled; a second of no change is the sign.
            // Placed once it settles: its threads and their load may
            // still come (numa01 starts its workers after touching its
            // buffer), and a pin taken now would overfill a node.
            let reason = "still setting up (\(why)); placed once it settles"
            processes.tracked[pid]?.lastReason = reason
            logger.debug("deferred", metadata: ["pid": "\(pid)", "reason": "\(reason)"])
            return nil
        }
        if observation.eligibleBytes > 0 { return .engine(observation) }
        // Nothing to place (a zombie, no eligible memory): looked at rarely.
        processes.tracked[pid]?.nextLook = now + engine.config.scanPeriodMax
        return nil
    }

    /// A process that could not be sampled: gone (a normal event), not
    /// ours to read, or failing for now (looked at rarely).
    func failed(pid: Int32, error: SamplingError, now: Double) {
        processes.inFlight.remove(pid)
        guard let entry = processes.tracked[pid] else { return }
        switch error {
        case .noSuchProcess, .kernelThread:
            processes.tracked[pid] = nil
            engine.forget([entry.identity])
        case .notPermitted:
            entry.standing = .unreadable
            entry.note = error.description
        default:
            entry.nextLook = now + engine.config.scanPeriodMax
            entry.note = error.description
        }
    }

    /// The engine's plan for the processes it places: their next scans and
    /// deferrals filed, its actions less those Admission holds back.
    func planWithEngine(_ observations: [Observation], now: Double) -> [Action] {
        let plan = engine.plan(topology: machine.topology, observations: observations, now: now,
                               failedMigrations: processes.failedLastRound, nodeBusy: nodeBusy(now: now))
        processes.failedLastRound = []   // told once, as the kernel's numa_faults_locality[2] is
        for scan in plan.scans where processes.tracked[scan.process.pid]?.identity == scan.process {
            processes.tracked[scan.process.pid]?.nextLook = onRoundGrid(scan.nextScan)
        }
        for deferral in plan.deferred where processes.tracked[deferral.process.pid]?.identity == deferral.process {
            processes.tracked[deferral.process.pid]?.lastReason = deferral.reason.description
            // Seen remote once: the second look comes soon when its threads
            // can run on one node only, else at the next round, whatever the
            // scan period (the kernel's filter acts at the next fault on the
            // page, not at the next scan).
            if deferral.reason.rule == .twoStageFilter {
                let pid = deferral.process.pid
                if Self.runsOnOneNode(processes.tracked[pid]?.last?.allowedCPUs, topology: machine.topology) {
                    lookSoon(pid, now: now)
                } else {
                    processes.tracked[pid]?.nextLook = onRoundGrid(now + engine.config.scanPeriodMin)
                }
            }
        }
        let actions = admitted(plan.actions, now: now)
        if actions.count < plan.actions.count {
            let kept = Set(actions)
            engine.notMade(plan.actions.filter { !kept.contains($0) }, plannedAt: now)
        }
        explainGaps(observations, planned: plan.actions)
        if logger.logLevel <= .debug { logPlan(plan, observations: observations, now: now) }
        return actions
    }

    func logPlan(_ plan: Plan, observations: [Observation], now: Double) {
        for o in observations {
            let shares = o.pages.shares.sorted { $0.key < $1.key }.map { "\($0.key):\(Percent.whole($0.value))" }
            let cpu = (o.cpuShares ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\(Percent.whole($0.value))" }
            logger.debug("observed", metadata: [
                "pid": "\(o.identity.pid)", "comm": "\(o.comm)", "pages": "\(shares.joined(separator: ","))",
                "cpu": "\(cpu.joined(separator: ","))", "busy": "\(Percent.text(Admission.busyRate(o)))",
                "locality": "\(o.locality.map(Percent.whole) ?? "-")",
                "nextScan": "\(processes.tracked[o.identity.pid].map { Int(($0.nextLook - now) * 10) } ?? 0)ds"])
        }
        for deferral in plan.deferred {
            logger.debug("deferred", metadata: ["pid": "\(deferral.process.pid)", "reason": "\(deferral.reason)"])
        }
        logger.debug("planned", metadata: ["observed": "\(observations.count)",
                                           "roundSeconds": "\(Int((now - clock.roundStart) * 1000))ms",
                                           "actions": "\(plan.actions.count)", "deferred": "\(plan.deferred.count)"])
    }

    /// Looked at again `scanPeriod.secondLook` from now, in a round of its
    /// own when the next one is later: a first sight of misplaced pages
    /// wants a second look, not a scan period.
    func lookSoon(_ pid: Int32, now: Double) {
        let at = now + settings.config.scanPeriod.secondLook.inSeconds
        processes.tracked[pid]?.nextLook = at
        clock.soonestLook = min(clock.soonestLook, at)
    }

    /// Its threads may run on one node only (a user's pin, or ours): where
    /// they ran is then no accident of the scheduler, and a look 300 ms
    /// later confirms what one a period later would. An unpinned process's
    /// threads wander, and two looks that close see the same wander twice:
    /// in the peers' supervisor run both groups were sent to the node their
    /// workers happened to run on, and one segment moved back and forth.
    static func runsOnOneNode(_ cpus: CPUSet?, topology: Topology) -> Bool {
        guard let cpus, !cpus.isEmpty else { return false }
        return topology.nodes.contains { $0.hasCPUs && cpus.isSubset(of: $0.cpus) }
    }

    /// A scan time moved to the next round at or after it, so processes with
    /// the same scan period stay in the same rounds and are planned together.
    func onRoundGrid(_ time: Double) -> Double {
        let step = engine.config.scanPeriodMin
        let rounds = max(1, ((time - clock.roundStart) / step - 0.05).rounded(.up))
        return clock.roundStart + rounds * step
    }

    /// A policy's own grouping: the cgroup or the parent as the group key
    /// (read through the loop's own /proc, so a fixture root reaches it).
    func groupHint(_ policy: Policy, observation: Observation) -> String? {
        switch policy.placement.group {
        case .cgroup: (try? tools.procfs.cgroupPath(observation.identity.pid)).flatMap { $0 }.map { "cgroup:" + $0 }
        case .parent: (try? tools.procfs.stat(observation.identity.pid)).map { "parent:\($0.ppid)" }
        case .sharedMemory, .none: nil
        }
    }

    /// The engine's actions minus those Admission holds back; each refusal
    /// becomes the process's last reason in `status`.
    func admitted(_ actions: [Action], now: Double) -> [Action] {
        let wallNow = Date().timeIntervalSince1970
        return actions.filter { action in
            let entries = action.processes.compactMap { processes.tracked[$0.pid] }
            for entry in entries {
                let policy = entry.policy
                let facts = Admission.Process(
                    policyName: policy.name, migratesMemory: policy.memory.migrate,
                    cooldownSeconds: (policy.balancing.cooldown ?? settings.config.balancing.cooldown).inSeconds,
                    policyCooldownSeconds: policy.balancing.cooldown?.inSeconds, actedAtWall: entry.actedAtWall,
                    threadsMovedAt: entry.threadsMovedAt,
                    alone: entry.last.map { $0.sharedObjects.isEmpty && $0.groupHint == nil } ?? true,
                    locality: entry.last?.locality,
                    localityTarget: policy.balancing.localityTarget ?? settings.config.balancing.localityTarget,
                    cpuRate: min(entry.last.map(Admission.busyRate) ?? 0, entry.previousCPURate ?? 0))
                if let refusal = Admission.refusal(action, process: facts, soleProcess: action.processes.count == 1,
                                                   now: now, wallNow: wallNow) {
                    processes.tracked[entry.identity.pid]?.lastReason = refusal
                    logger.debug("held back", metadata: ["pid": "\(entry.identity.pid)", "action": "\(action.kind)",
                                                        "rule": "\(action.reason.rule.rawValue)", "reason": "\(refusal)"])
                    return false
                }
            }
            return true
        }
    }

    /// numa02's case in standalone mode: a process whose threads run spread
    /// and stays far from local gets the reason in `status`.
    func explainGaps(_ observations: [Observation], planned: [Action]) {
        let target = settings.config.balancing.localityTarget
        for observation in observations {
            guard let entry = processes.tracked[observation.identity.pid], entry.identity == observation.identity else { continue }
            let spread = (observation.cpuShares ?? [:]).filter { $0.value > 0.15 }.count > 1
            if let locality = observation.locality, locality < target, spread, environment.mode == .standalone {
                entry.note = "threads run on \((observation.cpuShares ?? [:]).filter { $0.value > 0.15 }.count) nodes; "
                    + "without the kernel's hint faults (standalone mode) numabalance sees pages per process, not per "
                    + "thread, so it places the process as a whole: on one node if it fits, else spread with its memory "
                    + "interleaved (about 1/N local). Hybrid mode (kernel.numa_balancing=1) lets the kernel place pages per thread."
            } else if let locality = observation.locality, locality >= target {
                entry.note = nil
            }
        }
    }

    /// Each node's busy milli-CPUs since the last plan (all of the machine:
    /// processes under a policy, small ones, kernel threads, interrupts).
    func nodeBusy(now: Double) -> [NodeID: Int] {
        guard let times = try? TopologyReader().cpuTimes() else { return [:] }
        let threads = ThreadCPUSampler(procfs: ProcFS())
        let own = (try? threads.read(pid: tools.selfPID, affinities: false)) ?? [:]
        defer { machine.cpuTimesAtLastPlan = times; machine.ownThreadsAtLastPlan = own; machine.lastPlanAt = now }
        guard !machine.cpuTimesAtLastPlan.isEmpty, now > machine.lastPlanAt else { return [:] }
        let busy = Self.busyMilliCPUs(TopologyReader.utilization(topology: machine.topology, before: machine.cpuTimesAtLastPlan,
                                                                 after: times), topology: machine.topology)
        var ownMillis: [NodeID: Int] = [:]
        for thread in threads.activity(before: machine.ownThreadsAtLastPlan, after: own, topology: machine.topology) {
            guard let node = thread.node else { continue }
            ownMillis[node, default: 0] += Int(thread.cpuSeconds / (now - machine.lastPlanAt) * 1000 + 0.5)
        }
        return Self.otherLoad(busy: busy, own: ownMillis)
    }

    static func busyMilliCPUs(_ utilization: [NodeUtilization], topology: Topology) -> [NodeID: Int] {
        var result: [NodeID: Int] = [:]
        for u in utilization {
            guard let node = topology.node(u.node) else { continue }
            result[u.node] = Int(u.busyFraction * Double(node.cpus.count) * 1000 + 0.5)
        }
        return result
    }

    /// Busy time less the daemon's own: its sampling is not a workload's.
    static func otherLoad(busy: [NodeID: Int], own: [NodeID: Int]) -> [NodeID: Int] {
        busy.reduce(into: [:]) { result, entry in result[entry.key] = max(0, entry.value - (own[entry.key] ?? 0)) }
    }

    func refreshTopology(now: Double) {
        guard now - machine.topologyReadAt >= 5 else { return }
        machine.topologyReadAt = now
        if let fresh = try? TopologyReader().read() { machine.topology = Self.refreshed(machine.topology, with: fresh) }
    }

    /// Free memory and watermarks (so the reserve) as read now. A node list
    /// that changed (hotplug) keeps the nodes the engine knows by position,
    /// with the fresh figures of those still there and no room on one gone.
    static func refreshed(_ known: Topology, with fresh: Topology) -> Topology {
        if fresh.nodeIDs == known.nodeIDs { return fresh }
        var result = known
        for i in result.nodes.indices {
            if let now = fresh.node(result.nodes[i].id) {
                result.nodes[i].memTotalBytes = now.memTotalBytes
                result.nodes[i].memFreeBytes = now.memFreeBytes
                result.nodes[i].highWatermarkBytes = now.highWatermarkBytes
            } else {
                result.nodes[i].memFreeBytes = 0
            }
        }
        return result
    }
}
