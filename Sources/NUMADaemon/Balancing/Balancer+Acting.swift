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

/// Carrying out actions through the actuator, journalled and paced.
extension Balancer {
    /// Long moves keep systemd's watchdog fed: a batch done is a sign of life.
    var movePing: (@Sendable (MoveProgress) -> Void)? {
        guard settings.config.watchdog, environment.notifier.watchdogInterval != nil else { return nil }
        let notifier = environment.notifier
        return { _ in try? notifier.watchdog() }
    }


    /// The daemon's bucket, or a policy's with its own `maxRateMBps` that
    /// draws from the daemon's too: the daemon's rate bounds them all.
    func bucket(for policy: Policy?) -> TokenBucket {
        let daemonRate = settings.config.migration.maxRateMBps * 1_048_576
        let daemon: TokenBucket
        if let existing = buckets[""], existing.bytesPerSecond == daemonRate { daemon = existing } else {
            daemon = TokenBucket(bytesPerSecond: daemonRate, clock: kernel)
            buckets = ["": daemon]  // a new total: the policies' buckets are made again within it
        }
        guard let policy, let policyRate = policy.memory.maxRateMBps else { return daemon }
        let key = "policy:" + policy.name, rate = min(daemonRate, policyRate * 1_048_576)
        if let existing = buckets[key], existing.bytesPerSecond == rate, existing.parent === daemon { return existing }
        let fresh = TokenBucket(bytesPerSecond: rate, clock: kernel, within: daemon)
        buckets[key] = fresh
        return fresh
    }

    func act(_ actions: [Action], now: Double) {
        failedLastRound = []
        // Shown at once; the publish after the act clears it.
        shared.withLock { $0.status.actionInFlight = true }
        // Actions in order, run in stretches that share a budget.
        var start = 0
        while start < actions.count {
            let policy = actions[start].processes.first.flatMap { tracked[$0.pid]?.policy }
            let key = policy?.memory.maxRateMBps == nil ? nil : policy?.name
            var end = start + 1
            while end < actions.count {
                let next = actions[end].processes.first.flatMap { tracked[$0.pid]?.policy }
                if (next?.memory.maxRateMBps == nil ? nil : next?.name) != key { break }
                end += 1
            }
            act(Array(actions[start..<end]), budget: bucket(for: key == nil ? nil : policy), now: now)
            start = end
        }
    }

    func act(_ actions: [Action], budget: TokenBucket, now: Double) {
        var options = ActuationOptions(
            budget: budget, stop: stop, progress: movePing, objectWindowBytes: Self.objectWindowBytes,
            selfPID: selfPID)
        for identity in actions.flatMap(\.processes) {
            if let image = tracked[identity.pid]?.last?.image { options.sampledImages[identity] = image }
        }
        let dryRun = settings.config.dryRun
        let actuator: any Actuator = dryRun
            ? DryRunActuator(kernel: kernel, options: options) : LinuxActuator(kernel: kernel, options: options)
        let runner = PlanRunner(actuator: actuator, journal: dryRun ? nil : journal,
                                by: "numabalance daemon (pid \(selfPID))", stop: stop)
        _ = runner.run(actions) { record in
            let outcome = record.outcome
            totals.actions += 1
            totals.bytesMoved += outcome.bytesMoved
            totals.pagesMoved += outcome.pagesMoved
            if outcome.status == .failed || outcome.status == .partial { totals.failures += 1 }
            environment.metrics.record(record)
            for identity in record.action.processes {
                guard let entry = tracked[identity.pid], entry.identity == identity else { continue }
                entry.lastAction = "\(record.action.kind): \(outcome.summary) [\(outcome.status.rawValue)]"
                entry.lastReason = record.action.reason.description
                if outcome.status == .failed { failedLastRound.insert(identity) }
                if case .setAffinity(let a) = record.action, outcome.status == .done {
                    entry.ownAffinity = a.cpus
                    entry.threadsMovedAt = now
                }
                if case .swap(let s) = record.action, outcome.status == .done {
                    entry.ownAffinity = s.a == identity ? s.aCPUs : s.bCPUs
                    entry.threadsMovedAt = now
                }
            }
            var metadata: Logger.Metadata = [
                "pid": "\(record.action.processes.first?.pid ?? 0)",
                "comm": "\(record.action.processes.first.flatMap { tracked[$0.pid]?.comm } ?? "?")",
                "action": "\(record.action.kind)", "rule": "\(record.action.reason.rule.rawValue)",
                "status": "\(outcome.status.rawValue)", "outcome": "\(outcome.summary)",
                "reason": "\(record.action.reason.summary)",
            ]
            if outcome.bytesMoved > 0 { metadata["bytes"] = "\(outcome.bytesMoved)" }
            if let error = outcome.error { metadata["error"] = "\(error)" }
            if let to = record.action.reason.destination { metadata["node"] = "\(to)" }
            if outcome.status == .failed { logger.warning("decision", metadata: metadata) }
            else { logger.info("decision", metadata: metadata) }
        }
    }
}
