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

    /// Carries out a plan: each move on the mover of its destination node
    /// (with every later action of its processes, so they stay in order),
    /// the rest (affinity: quick) here at once. Moves to different nodes run
    /// at once; the loop goes on while they do.
    func act(_ actions: [Action], now: Double) {
        var jobs: [MoverJob] = []
        var here: [Action] = []
        var jobOf: [Int32: Int] = [:]
        for action in actions {
            let pids = action.processes.map(\.pid)
            let (key, policy) = budgetOwner(of: action)
            let index: Int
            if let chained = pids.lazy.compactMap({ jobOf[$0] }).first {
                index = chained
            } else if tools.movers != nil, let node = NodeMovers.destination(of: action) {
                if let same = jobs.firstIndex(where: { $0.node == node && $0.bucketKey == key }) {
                    index = same
                } else {
                    jobs.append(MoverJob(node: node, bucketKey: key, policy: policy))
                    index = jobs.count - 1
                }
            } else {
                here.append(action)
                continue
            }
            jobs[index].actions.append(action)
            for pid in pids { jobOf[pid] = index }
        }
        if !here.isEmpty { actHere(here, now: now) }
        for job in jobs { hand(job, now: now) }
    }

    /// The policy whose own `maxRateMBps` bucket an action spends from (its
    /// first process's), with its name as the key; nil for the daemon's bucket.
    func budgetOwner(of action: Action) -> (key: String?, policy: Policy?) {
        guard let policy = action.processes.first.flatMap({ processes.tracked[$0.pid]?.policy }),
              policy.memory.maxRateMBps != nil else { return (nil, nil) }
        return (policy.name, policy)
    }

    /// One mover's share of a plan: its actions in order, and the bucket they spend from.
    struct MoverJob {
        var node: NodeID
        var bucketKey: String?
        var policy: Policy?
        var actions: [Action] = []
    }

    /// Actions carried out on the loop's thread, in stretches that share a budget.
    func actHere(_ actions: [Action], now: Double) {
        var start = 0
        while start < actions.count {
            let (key, policy) = budgetOwner(of: actions[start])
            var end = start + 1
            while end < actions.count, budgetOwner(of: actions[end]).key == key { end += 1 }
            let options = actuationOptions(for: Array(actions[start..<end]), budget: bucket(for: policy), parallelism: 1)
            _ = Acting.run(Array(actions[start..<end]), kernel: tools.kernel, options: options, journal: tools.journal,
                           dryRun: settings.config.dryRun, by: actor) { record in
                acted(record, now: now)
            }
            start = end
        }
    }

    /// A job handed to its node's mover; its processes are not sampled
    /// until it ends (a look mid-move sees pages in transit).
    func hand(_ job: MoverJob, now: Double) {
        guard let movers = tools.movers else { return actHere(job.actions, now: now) }
        let options = actuationOptions(for: job.actions, budget: bucket(for: job.policy),
                                       parallelism: movers.cpuCount(for: job.node))
        let pids = Array(Set(job.actions.flatMap(\.processes).map(\.pid)))
        acts.jobs += 1
        let (actions, kernel, journal, dryRun, by) = (job.actions, tools.kernel, tools.journal, settings.config.dryRun, actor)
        let handed = movers.submit(job: acts.jobs, pids: pids, to: job.node) { report in
            _ = Acting.run(actions, kernel: kernel, options: options, journal: journal, dryRun: dryRun, by: by,
                           onRecord: report)
        }
        guard handed else { return actHere(job.actions, now: now) }
        for pid in pids { acts.moving[pid, default: 0] += 1 }
        logger.debug("handed to a mover", metadata: ["node": "\(job.node)", "actions": "\(job.actions.count)",
                                                     "pids": "\(pids.sorted())"])
    }

    /// What the movers did since the last tick: each record filed, and the
    /// processes of a finished job looked at again.
    func takeMoverNews(now: Double) {
        guard let news = tools.movers?.take(), !news.isEmpty else { return }
        for item in news {
            switch item {
            case .record(let record):
                acted(record, now: now)
            case .finished(_, let pids):
                for pid in pids {
                    let left = (acts.moving[pid] ?? 1) - 1
                    acts.moving[pid] = left > 0 ? left : nil
                }
            }
        }
        clock.lastPublished = 0   // show it now
    }

    var actor: String { "numabalance daemon (pid \(tools.selfPID))" }

    func actuationOptions(for actions: [Action], budget: TokenBucket, parallelism: Int) -> ActuationOptions {
        var options = ActuationOptions(budget: budget, stop: stop, objectWindowBytes: Self.objectWindowBytes,
                                       selfPID: tools.selfPID)
        options.parallelism = parallelism
        for identity in actions.flatMap(\.processes) {
            if let image = processes.tracked[identity.pid]?.last?.image { options.sampledImages[identity] = image }
        }
        return options
    }

    /// One action's record, wherever it ran: totals, metrics, the
    /// processes' last act, the log.
    func acted(_ record: ActionRecord, now: Double) {
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
