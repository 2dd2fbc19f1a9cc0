import NUMAModel

/// What the sampler cannot know of a process's pin: whose it is. The same
/// rule (PinOwnership) for the daemon and the one-shot, fed what the
/// journal says numabalance itself set (`own`).
public enum Ownership {
    public static func annotate(_ observation: inout Observation, own: CPUSet?, topology: Topology) {
        observation.affinityOwner = PinOwnership.owner(affinities: observation.affinities,
                                                       cpuset: observation.cpusetCPUs, own: own, topology: topology)
    }
}
