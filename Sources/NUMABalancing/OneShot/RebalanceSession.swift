import Foundation
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMAPrivileges
import NUMAProc
import NUMASampling
import NUMASystem
import NUMATopology

/// One rebalance, through one engine value: a first sampling round (thread
/// moves act at once: they need no filter), a second about a second later
/// (memory moves: the two-stage filter has now seen them twice), a third
/// only when the filter still holds back a good part of the memory. Each
/// step's capabilities are checked before it acts, through the journal;
/// then a fresh round measures the locality after. `--to` skips the engine.
public struct RebalanceSession: Sendable {
    public var pid: Int32
    public var dryRun: Bool
    public var toNode: NodeID?
    public var bytesPerSecond: Double
    public var interval: Double
    public var journalDirectory: String
    /// A fresh progress display for each act (a terminal's line), if any.
    public var makeProgress: (@Sendable () -> any MoveProgressSink)?
    /// Asked to stop (SIGINT, SIGTERM): the move ends between batches.
    public var stop: StopSignal

    public init(pid: Int32, dryRun: Bool, toNode: NodeID?, bytesPerSecond: Double, interval: Double,
                journalDirectory: String, makeProgress: (@Sendable () -> any MoveProgressSink)?, stop: StopSignal) {
        self.pid = pid
        self.dryRun = dryRun
        self.toNode = toNode
        self.bytesPerSecond = bytesPerSecond
        self.interval = interval
        self.journalDirectory = journalDirectory
        self.makeProgress = makeProgress
        self.stop = stop
    }

    public func run() async throws -> RebalanceReport {
        let started = Clock.monotonicSeconds()
        let kernel = LinuxKernel()
        let selfPID = Host.pid
        let topology = try readTopology()
        let facts: TargetProcess
        switch kernel.process(pid) {
        case .success(let f): facts = f
        case .failure(let error): throw RebalanceFailure(error.description)
        }
        if case .failure(let error) = ProcessGuard.check(facts.identity, kernel: kernel, selfPID: selfPID) {
            throw RebalanceFailure(error.description)
        }
        let privileges = Privileges.current()
        let owner = TargetOwner(pid: pid, comm: facts.comm, uids: facts.uids, memsAllowed: facts.memsAllowed)
        if !owner.uids.prefix(3).allSatisfy({ $0 == privileges.uid }), !privileges.has(.sysPtrace) {
            throw RebalanceFailure("cannot rebalance pid \(pid) (\(TerminalText.escaped(facts.comm)), uid \(owner.uids.first ?? 0)): "
                + privileges.explainActDenied(capability: [.sysPtrace],
                                              why: "reading and moving another user's pages passes the kernel's ptrace read check"))
        }
        let mode = Self.kernelMode()
        let journal = Journal.inDirectory(journalDirectory)
        let sampling = try RebalanceSampling(topology: topology, kernel: kernel, journal: journal)
        defer { sampling.stop() }
        let first = try await sampling.round(pid: pid, identity: facts.identity, seed: 0)
        var step = Step(session: self, kernel: kernel, journal: journal, selfPID: selfPID, privileges: privileges,
                        owner: owner)

        var decision: Plan
        if let toNode {
            let cpuset = kernel.cpuset(pid)
            do {
                decision = try OperatorPlan(topology: readTopology(), observation: first, node: toNode,
                                            cpusetCPUs: cpuset?.cpus, cpusetMems: cpuset?.mems).plan(mode: mode)
            } catch let refusal as OperatorPlan.Refusal { throw RebalanceFailure(refusal.description) }
            try step.carryOut(decision.actions)
        } else {
            // Two rounds through the same engine. Threads may move after the
            // first (affinity needs no filter; the engine counts on it being
            // done), memory only after the second (the two-stage filter).
            var engine = PlacementEngine(config: PlacementConfig(
                mode: mode, budgetBytesPerSecond: bytesPerSecond, budgetBurstSeconds: 3600))
            let early = engine.plan(topology: topology, observations: [first], now: first.time).actions.filter {
                guard $0.processes.contains(facts.identity) else { return false }
                if case .setAffinity = $0 { return true }
                return false
            }
            try step.carryOut(early)
            try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            decision = Plan(time: first.time, mode: mode, actions: early)
            // A range first seen remote in the second round (the threads moved
            // after the first) gets one more round, as a second rebalance would.
            for round in 1...2 where !step.exited {
                if round > 1 { try await Task.sleep(for: .milliseconds(Int64(interval * 1000))) }
                let observation = try await sampling.round(pid: pid, identity: facts.identity, seed: UInt64(round))
                let plan = engine.plan(topology: try readTopology(), observations: [observation], now: observation.time)
                let mine = SharedRanges.split(plan.actions.filter { $0.processes.contains(facts.identity) },
                                              observation: observation)
                let privateRanges = ((try? kernel.mappings(pid).get()) ?? [])
                    .filter { $0.isEligibleForSampling && $0.sharedObject == nil }
                    .map { AddressRange(start: $0.start, end: $0.end) }
                let late = WholeProcess.extend(SpreadInterleave.apply(mine, observation: observation,
                                                                      privateRanges: privateRanges, topology: topology),
                                               privateRanges: privateRanges)
                try step.carryOut(late)
                decision.actions += late
                decision.deferred = plan.deferred.filter { $0.process == facts.identity }
                // A dry run moved nothing: another round would only say the same again.
                // Memory spread once is not spread again (no page moved twice).
                guard !dryRun, !SpreadInterleave.spreads(late),
                      Self.waitsForSecondLook(decision.deferred, observation: observation) else { break }
            }
        }
        let after = step.exited ? nil : sampling.afterRound(pid: pid)
        return RebalanceReport(
            pid: pid, comm: facts.comm, mode: mode, dryRun: dryRun, topology: topology, before: first,
            after: after, plan: decision, records: step.records, missing: step.missing,
            seconds: Clock.monotonicSeconds() - started, journal: dryRun ? nil : journal.path)
    }

    /// Acting in steps, with the capabilities checked before each.
    struct Step {
        let session: RebalanceSession
        let kernel: LinuxKernel
        let journal: Journal
        let selfPID: Int32
        let privileges: Privileges
        let owner: TargetOwner
        var records: [ActionRecord] = []
        var missing: [String] = []
        var exited: Bool { records.contains { $0.outcome.status == .exited } }

        mutating func carryOut(_ actions: [Action]) throws {
            let shortfalls = actions.flatMap { privileges.shortfalls(for: $0, owners: [owner.pid: owner]) }
            if let first = shortfalls.first, !session.dryRun {
                throw RebalanceFailure("not acting on pid \(owner.pid) (\(TerminalText.escaped(owner.comm))): " + first.description)
            }
            missing += shortfalls.map(\.description)
            records += session.act(actions, kernel: kernel, journal: journal, selfPID: selfPID)
        }
    }

    fileprivate func act(_ actions: [Action], kernel: LinuxKernel, journal: Journal, selfPID: Int32) -> [ActionRecord] {
        guard !actions.isEmpty else { return [] }
        let progress = makeProgress?()
        var report: (@Sendable (MoveProgress) -> Void)?
        if let progress { report = { progress.show($0) } }
        let options = ActuationOptions(
            budget: TokenBucket(bytesPerSecond: bytesPerSecond, clock: kernel), stop: stop, progress: report,
            selfPID: selfPID)
        let records = Acting.run(actions, kernel: kernel, options: options, journal: journal, dryRun: dryRun,
                                 by: "numabalance rebalance (pid \(selfPID))")
        progress?.finish()
        return records
    }

    private func readTopology() throws -> Topology {
        do { return try TopologyReader().read() } catch {
            throw RebalanceFailure("cannot read the NUMA topology: \(error)")
        }
    }

    /// Whether the two-stage filter holds back a good part of the process's
    /// memory (≥ 5 % of it and ≥ 1 MiB): worth one more round.
    public static func waitsForSecondLook(_ deferred: [Deferral], observation: Observation) -> Bool {
        let waiting = deferred.filter { $0.reason.rule == .twoStageFilter }.reduce(UInt64(0)) { $0 + $1.reason.bytes }
        let resident = observation.residentBytes
        return waiting >= 1 << 20 && Double(waiting) >= 0.05 * Double(max(resident, 1))
    }

    /// The mode kernel.numa_balancing gives (PlacementMode(numaBalancing:)).
    public static func kernelMode(procRoot: String = "/proc") -> PlacementMode {
        let value = (try? ProcFS(root: procRoot).readSystem("sys/kernel/numa_balancing"))?.trimmingWhitespace()
        return PlacementMode(numaBalancing: value.flatMap { Int($0) })
    }
}
