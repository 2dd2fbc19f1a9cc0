import Foundation
import Logging
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMAProc
import NUMASampling
import NUMASystem
import NUMATopology
import Synchronization

/// What `numabalance status` and the metrics show.
extension Balancer {
    func publish(now: Double) {
        var report = StatusReport()
        report.mode = environment.mode.rawValue
        report.kernelNumaBalancing = environment.kernelBalancingValue()
        report.kernelBalancing = settings.config.kernelBalancing.rawValue
        report.dryRun = settings.config.dryRun
        report.configFile = settings.configFile
        report.policyGeneration = settings.generation
        report.policyFiles = settings.policies.files
        report.capabilities = environment.capabilitiesKept
        report.uptimeSeconds = now - clock.startedAt
        report.pid = tools.selfPID
        report.actionInFlight = !acts.moving.isEmpty
        var counts = acts.totals
        counts.processesTracked = processes.tracked.count
        counts.processesBalanced = processes.tracked.values.filter { $0.standing == .balanced }.count
        counts.daemonCPUSeconds = Clock.processCPUSeconds()
        (counts.loopTimerWakeups, counts.loopSignalledWakeups) = tools.wake.wakeups
        report.totals = counts
        report.processes = processes.tracked.values.filter { $0.standing != .small || $0.lastAction != nil }
            .sorted { $0.identity.pid < $1.identity.pid }
            .map { entry in processStatus(entry, now: now) }
        environment.metrics.update(report)
        shared.withLock { $0.status = report }
    }

    func processStatus(_ entry: TrackedProcess, now: Double) -> StatusReport.Process {
        var p = StatusReport.Process(pid: entry.identity.pid, comm: entry.comm, standing: entry.standing.rawValue,
                                     policy: entry.policy.name, mode: entry.policy.placement.mode.rawValue)
        if let o = entry.last {
            p.locality = o.locality
            p.pageShares = Dictionary(uniqueKeysWithValues: o.pages.shares.map { ("\($0.key)", $0.value) })
            p.rssBytes = o.rssBytes
            p.group = o.groupHint ?? o.sharedObjects.first?.key
        }
        if let state = engine.state.state(of: entry.identity) {
            p.preferredNode = state.preferred.flatMap { $0.row < machine.topology.nodes.count ? machine.topology.nodes[$0.row].id.rawValue : nil }
            p.scanPeriodSeconds = state.scanPeriod
        }
        p.nextScanSeconds = entry.standing == .balanced ? max(0, entry.nextLook - now) : nil
        p.lastAction = entry.lastAction
        p.lastReason = entry.lastReason
        p.note = entry.note
        return p
    }
}
