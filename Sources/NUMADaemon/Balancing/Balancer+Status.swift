import Foundation
import Logging
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMAProc
import NUMASampling
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
        report.uptimeSeconds = now - startedAt
        report.pid = selfPID
        var totals = self.totals
        totals.processesTracked = tracked.count
        totals.processesBalanced = tracked.values.filter { $0.standing == .balanced }.count
        totals.daemonCPUSeconds = Self.ownCPUSeconds()
        report.totals = totals
        report.processes = tracked.values.filter { $0.standing != .small || $0.lastAction != nil }
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
            p.preferredNode = state.preferred.flatMap { $0 < topology.nodes.count ? topology.nodes[$0].id.rawValue : nil }
            p.scanPeriodSeconds = state.scanPeriod
        }
        p.nextScanSeconds = entry.standing == .balanced ? max(0, entry.nextLook - now) : nil
        p.lastAction = entry.lastAction
        p.lastReason = entry.lastReason
        p.note = entry.note
        return p
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func percent(_ value: Double) -> String { "\(Int((value * 100).rounded())) %" }
}
