import Foundation
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMASampling

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
        // A pinned sampler thread may take long to start on CPUs the target
        // keeps busy (seen under emulation): one more try before giving up.
        do { pool = try SamplerPool(sampler: ProcessSampler(topology: topology)) } catch {
            do { pool = try SamplerPool(sampler: ProcessSampler(topology: topology)) } catch {
                throw RebalanceFailure(error.description)
            }
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
        Ownership.annotate(&o, own: journal.ownAffinity(of: o.identity), topology: topology)
        return o
    }
}
