/// Whose a process's CPU affinity is: the one rule that the daemon,
/// `rebalance`, `policy plan` and the engine judge by.
///
/// Judged by CPU, never by node: `taskset -c 0,2` (one CPU on each node)
/// spans every node and is still a user's pin. Only numabalance's own pins,
/// known from its journal, are numabalance's to change.
public enum PinOwnership {
    /// The CPUs numabalance may give a process: its cpuset (every CPU when
    /// unknown) less the CPUs isolated from the scheduler (isolcpus), which
    /// no process lands on unless someone pinned it there.
    public static func limit(cpuset: CPUSet?, topology: Topology) -> CPUSet {
        let allowed = cpuset ?? topology.allCPUs
        let usable = CPUSet(allowed.ids.filter { !topology.isolatedCPUs.contains($0) })
        return usable.isEmpty ? allowed : usable
    }

    /// Who set the affinity the process has now.
    /// - Parameters:
    ///   - affinities: every thread's affinity (the main thread's first);
    ///     threads with affinities of their own are a user's per-thread pins
    ///     (libvirt's vCPU pins, a DPDK lcore map).
    ///   - own: what numabalance last set on this very process and did not
    ///     undo (the journal); nil when it set nothing.
    public static func owner(affinities: [CPUSet], cpuset: CPUSet?, own: CPUSet?,
                             topology: Topology) -> AffinityOwner {
        guard let first = affinities.first else { return .unrestricted }
        let limit = limit(cpuset: cpuset, topology: topology)
        // Its own pin, or its own pin as a narrowed cpuset left it (the
        // kernel intersects the affinity with the new cpuset).
        if let own, affinities.allSatisfy({ $0 == own || $0 == own.intersection(limit) }) { return .numabalance }
        // A cpuset handed out CPU by CPU, not node by node (Kubernetes'
        // static CPU manager, a pinned VM's cgroup): its CPUs are someone's
        // accounting, and gathering the process onto one node's share of
        // them would take CPUs it was given.
        if let cpuset, cpuset != topology.allCPUs, !isWholeNodes(cpuset, topology: topology) { return .user }
        let spansLimit = affinities.allSatisfy { limit.isSubset(of: $0) }
        return spansLimit && affinities.allSatisfy({ $0 == first }) ? .unrestricted : .user
    }

    /// Every node's CPUs (less the isolated ones) are in `set` or out of it whole.
    static func isWholeNodes(_ set: CPUSet, topology: Topology) -> Bool {
        topology.nodes.allSatisfy { node in
            let cpus = node.cpus.ids.filter { !topology.isolatedCPUs.contains($0) }
            let inside = cpus.filter(set.contains).count
            return inside == 0 || inside == cpus.count
        }
    }
}
