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

/// Handing due processes to the sampler threads, within the budget.
extension Balancer {
    /// Submits the processes whose scan is due, oldest due first, within
    /// the samples-per-second budget (a one-second bucket).
    func submitDue(now: Double) {
        let rate = Double(settings.config.sampling.maxSamplesPerSecond)
        clock.sampleTokens = min(rate, clock.sampleTokens + (now - clock.sampleTokensAt) * rate)
        clock.sampleTokensAt = now
        // A process due within a tenth of a second joins this round.
        let due = withGroupPartners(processes.tracked.values.filter {
            $0.standing == .balanced && !processes.inFlight.contains($0.identity.pid) && $0.nextLook <= now + 0.1
                && acts.moving[$0.identity.pid] == nil
        }).sorted { $0.nextLook < $1.nextLook }
        let idle = processes.inFlight.isEmpty
        for process in due {
            let cost = Double(process.lastSamples)
            // Always let one through when idle, so a budget smaller than one
            // round slows sampling down instead of stopping it.
            guard clock.sampleTokens >= cost || (idle && process.identity == due.first?.identity) else { break }
            clock.sampleTokens -= cost
            processes.inFlight.insert(process.identity.pid)
            tools.samplesOut.add(1, ordering: .relaxed)
            tools.pool.submit(pid: process.identity.pid, options: samplingOptions(for: process.policy)) { [weak self] outcome in
                guard let tools = self?.tools else { return }
                tools.inbox.withLock { $0.append(outcome) }
                if tools.samplesOut.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { tools.wake.signal() }
            }
        }
    }

    /// The due processes and every process that shares memory (or a
    /// policy's group key) with one of them: the engine forms groups from
    /// one plan's observations, so a group is sampled whole or not at all.
    func withGroupPartners(_ due: [TrackedProcess]) -> [TrackedProcess] {
        func keys(_ p: TrackedProcess) -> [String] {
            guard let o = p.last else { return [] }
            return o.sharedObjects.map(\.key) + (o.groupHint.map { [$0] } ?? [])
        }
        let wanted = Set(due.flatMap(keys))
        guard !wanted.isEmpty else { return due }
        // A group with a member being moved waits for the move to end: a
        // member looked at alone is planned alone (pinned to where its own
        // history points, away from the group's new node, as the lab saw).
        let moving = Set(acts.moving.keys.compactMap { processes.tracked[$0] }.flatMap(keys))
        let ready = due.filter { !keys($0).contains(where: moving.contains) }
        let readyKeys = Set(ready.flatMap(keys))
        let chosen = Set(ready.map(\.identity.pid))
        let partners = processes.tracked.values.filter { p in
            p.standing == .balanced && !processes.inFlight.contains(p.identity.pid) && !chosen.contains(p.identity.pid)
                && keys(p).contains(where: readyKeys.contains) && !keys(p).contains(where: moving.contains)
        }
        return ready + partners
    }

    func samplingOptions(for policy: Policy) -> SamplingOptions {
        var options = PolicySampling.options(for: policy, config: settings.config.sampling)
        // No sleeping on a sampler thread: the first round of a process only
        // sets its CPU baseline; the next one measures over the scan period.
        options.cpuInterval = .zero
        options.readKernelFaults = environment.mode == .hybrid
        return options
    }
}
