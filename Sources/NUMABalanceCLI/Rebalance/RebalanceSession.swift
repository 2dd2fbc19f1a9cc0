import Foundation
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMAPrivileges
import NUMAProc
import NUMASampling
import NUMATopology

/// One rebalance: sample twice through the same engine, take the plan's
/// actions for this process (or the operator's --to), check capabilities,
/// act through the journal, sample again, report.
struct RebalanceSession {
    var pid: Int32
    var dryRun: Bool
    var toNode: NodeID?
    var bytesPerSecond: Double
    var interval: Double
    var journalDirectory: String
    var showProgress: Bool

    func run() async throws -> RebalanceReport {
        let started = monotonicSeconds()
        let kernel = LinuxKernel()
        let selfPID = getpid()
        let topology = try readTopology()
        let facts: ProcessFacts
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
            throw RebalanceFailure("cannot rebalance pid \(pid) (\(facts.comm), uid \(owner.uids.first ?? 0)): "
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
            decision = try OperatorPlan(topology: readTopology(), observation: first, node: toNode,
                                        cpuset: kernel.cpuset(pid)).plan(mode: mode)
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
            if !step.exited {
                let second = try await sampling.round(pid: pid, identity: facts.identity, seed: 1)
                let plan = engine.plan(topology: try readTopology(), observations: [second], now: second.time)
                let late = SharedRanges.split(plan.actions.filter { $0.processes.contains(facts.identity) },
                                              observation: second)
                try step.carryOut(late)
                decision.actions += late
                decision.deferred = plan.deferred.filter { $0.process == facts.identity }
            }
        }
        let after = step.exited ? nil : sampling.afterRound(pid: pid)
        return RebalanceReport(
            pid: pid, comm: facts.comm, mode: mode, dryRun: dryRun, topology: topology, before: first,
            after: after, plan: decision, records: step.records, missing: step.missing,
            seconds: monotonicSeconds() - started, journal: dryRun ? nil : journal.path)
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
                throw RebalanceFailure("not acting on pid \(owner.pid) (\(owner.comm)): " + first.description)
            }
            missing += shortfalls.map(\.description)
            records += session.act(actions, kernel: kernel, journal: journal, selfPID: selfPID)
        }
    }

    fileprivate func act(_ actions: [Action], kernel: LinuxKernel, journal: Journal, selfPID: Int32) -> [ActionRecord] {
        guard !actions.isEmpty else { return [] }
        let progress: ProgressLine? = showProgress ? ProgressLine() : nil
        var report: (@Sendable (MoveProgress) -> Void)?
        if let progress { report = { progress.show($0) } }
        let options = ActuationOptions(
            budget: TokenBucket(bytesPerSecond: bytesPerSecond, clock: kernel),
            stop: InterruptStop.shared.install(), progress: report, selfPID: selfPID)
        let actuator: any Actuator = dryRun
            ? DryRunActuator(kernel: kernel, options: options) : LinuxActuator(kernel: kernel, options: options)
        let runner = PlanRunner(actuator: actuator, journal: dryRun ? nil : journal,
                                by: "numabalance rebalance (pid \(selfPID))", stop: options.stop)
        let records = runner.run(actions)
        progress?.finish()
        return records
    }

    private func readTopology() throws -> Topology {
        do { return try TopologyReader().read() } catch {
            throw RebalanceFailure("cannot read the NUMA topology: \(error)")
        }
    }

    /// kernel.numa_balancing 0 (or absent): standalone; else hybrid.
    static func kernelMode(procRoot: String = "/proc") -> PlacementMode {
        let value = (try? ProcFS(root: procRoot).readSystem("sys/kernel/numa_balancing"))?.trimmingWhitespace()
        guard let value, value != "0" else { return .standalone }
        return .hybrid
    }
}

/// The sampling rounds of a rebalance, through one sampler pool so that the
/// second round measures CPU time since the first.
struct RebalanceSampling {
    var topology: Topology
    var kernel: LinuxKernel
    var journal: Journal
    let pool: SamplerPool

    init(topology: Topology, kernel: LinuxKernel, journal: Journal) throws {
        self.topology = topology
        self.kernel = kernel
        self.journal = journal
        do { pool = try SamplerPool(sampler: ProcessSampler(topology: topology)) } catch {
            throw RebalanceFailure(error.description)
        }
    }

    func stop() { pool.stop() }

    var options: SamplingOptions {
        var options = SamplingOptions()
        // A one-shot can afford more than the daemon's per-round budget.
        options.budgetSeconds = 0.25
        options.cpuInterval = .milliseconds(500)
        return options
    }

    /// One round; the process must still be the one identified.
    func round(pid: Int32, identity: ProcessIdentity, seed: UInt64) async throws -> Observation {
        var options = self.options
        options.seed &+= seed
        switch await pool.observe(pid: pid, options: options) {
        case .observed(let report, _):
            guard report.observation.identity == identity else {
                throw RebalanceFailure("pid \(pid) exited and its pid was reused during sampling")
            }
            return annotate(report.observation)
        case .failed(_, let error, _):
            throw RebalanceFailure(error.description)
        }
    }

    /// After acting: a fresh round, its CPU time measured over its own interval.
    func afterRound(pid: Int32) -> Observation? {
        var options = self.options
        options.seed &+= 7
        return try? ProcessSampler(topology: topology).observe(pid: pid, options: options).observation
    }

    /// What the sampler cannot know: the cgroup's limit and who set the affinity.
    private func annotate(_ observation: Observation) -> Observation {
        var o = observation
        o.cpusetCPUs = kernel.cpuset(observation.identity.pid)?.cpus
        o.affinityOwner = journal.affinityOwner(of: o.identity, current: o.allowedCPUs)
        return o
    }
}
