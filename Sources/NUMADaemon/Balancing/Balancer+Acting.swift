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
        if let existing = acts.buckets[""], existing.bytesPerSecond == daemonRate { daemon = existing } else {
            daemon = TokenBucket(bytesPerSecond: daemonRate, clock: tools.kernel)
            acts.buckets = ["": daemon]  // a new total: the policies' buckets are made again within it
        }
        guard let policy, let policyRate = policy.memory.maxRateMBps else { return daemon }
        let key = "policy:" + policy.name, rate = min(daemonRate, policyRate * 1_048_576)
        if let existing = acts.buckets[key], existing.bytesPerSecond == rate, existing.parent === daemon { return existing }
        let fresh = TokenBucket(bytesPerSecond: rate, clock: tools.kernel, within: daemon)
        acts.buckets[key] = fresh
        return fresh
    }

    func act(_ actions: [Action], now: Double) {
        processes.failedLastRound = []
        // Shown at once; the publish after the act clears it.
        shared.withLock { $0.status.actionInFlight = true }
        // Actions in order, run in stretches that share a budget.
        var start = 0
        while start < actions.count {
            let policy = actions[start].processes.first.flatMap { processes.tracked[$0.pid]?.policy }
            let key = policy?.memory.maxRateMBps == nil ? nil : policy?.name
            var end = start + 1
            while end < actions.count {
                let next = actions[end].processes.first.flatMap { processes.tracked[$0.pid]?.policy }
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
            selfPID: tools.selfPID)
        for identity in actions.flatMap(\.processes) {
            if let image = processes.tracked[identity.pid]?.last?.image { options.sampledImages[identity] = image }
        }
        _ = Acting.run(actions, kernel: tools.kernel, options: options, journal: tools.journal, dryRun: settings.config.dryRun,
                       by: "numabalance daemon (pid \(tools.selfPID))") { record in
            let outcome = record.outcome
            acts.totals.actions += 1
            acts.totals.bytesMoved += outcome.bytesMoved
            acts.totals.pagesMoved += outcome.pagesMoved
            if outcome.status == .failed || outcome.status == .partial { acts.totals.failures += 1 }
            environment.metrics.record(record)
            for identity in record.action.processes {
                guard let entry = processes.tracked[identity.pid], entry.identity == identity else { continue }
                entry.lastAction = "\(record.action.kind): \(outcome.summary) [\(outcome.status.rawValue)]"
                entry.lastReason = record.action.reason.description
                if outcome.status == .failed { processes.failedLastRound.insert(identity) }
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
                "comm": "\(record.action.processes.first.flatMap { processes.tracked[$0.pid]?.comm } ?? "?")",
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
