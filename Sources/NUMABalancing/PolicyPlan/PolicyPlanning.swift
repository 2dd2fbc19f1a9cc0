import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMASampling

/// `policy plan`: what a policy would do to each process it takes, sampled
/// as the daemon samples and planned by the directive planner the daemon
/// uses; nothing is changed.
public enum PolicyPlanning {
    /// What would be done to each process under `policy`.
    public static func plan(_ processes: [RunningProcess], policy: Policy, topology: Topology, pool: SamplerPool?,
                            startedAt: Double, config: SamplingConfig) async -> [ProcessPlan] {
        guard let directive = policy.directive(topology: topology) else {
            let treatment: ProcessPlan.Treatment = policy.ignores ? .ignore : .auto
            return processes.map { ProcessPlan(process: $0, treatment: $0.identity.pid == 1 ? .neverActedOn : treatment) }
        }
        return await withTaskGroup(of: ProcessPlan.self) { group in
            for process in processes {
                group.addTask {
                    guard process.identity.pid != 1 else { return ProcessPlan(process: process, treatment: .neverActedOn) }
                    guard let pool else {
                        return ProcessPlan(process: process, treatment: .notSampled, note: "no sampler thread could start")
                    }
                    // As the daemon would sample it, over the census's interval.
                    var options = PolicySampling.options(for: policy, config: config)
                    options.cpuBaseline = CPUBaseline(identity: process.identity, readings: process.baseline,
                                                      time: startedAt)
                    switch await pool.observe(pid: process.identity.pid, options: options) {
                    case .failed(_, let error, _):
                        return ProcessPlan(process: process, treatment: .notSampled, note: error.description)
                    case .observed(let report, _):
                        let o = report.observation
                        guard o.identity == process.identity else {
                            return ProcessPlan(process: process, treatment: .notSampled,
                                               note: "the process exited (its pid was reused)")
                        }
                        let actions = DirectivePlanner.plan(directive, observation: o, topology: topology,
                                                            policyName: policy.name, migrate: policy.memory.migrate,
                                                            sharedObjects: policy.memory.sharedObjects)
                        return ProcessPlan(process: process, treatment: .plan, locality: o.locality, actions: actions,
                                           topology: topology)
                    }
                }
            }
            var plans: [ProcessPlan] = []
            for await plan in group { plans.append(plan) }
            return plans.sorted { $0.pid < $1.pid }
        }
    }
}
