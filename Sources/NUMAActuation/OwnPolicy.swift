import NUMAModel
import NUMASystem

/// The calling thread's own placement, for `numabalance exec`: a memory
/// policy (set_mempolicy) and an affinity, both inherited across execve by
/// the thread that calls it (policy and affinity are per thread).
public enum OwnPolicy {
    /// set_mempolicy(2) of the calling thread.
    public static func setMemoryPolicy(_ policy: MemoryPolicySpec) -> Result<Void, SystemError> {
        MemoryPolicy.setThreadPolicy(mode: MemoryPolicyMode.value(of: policy.mode),
                                     nodes: MemoryPolicyMode.hasNodes(policy.mode) ? policy.nodes : nil,
                                     operation: "set_mempolicy \(policy)")
    }

    /// sched_setaffinity(2) of the calling thread.
    public static func setAffinity(_ cpus: CPUSet) -> Result<Void, SystemError> {
        CPUMask.setAffinity(of: 0, to: cpus).mapError { SystemError("sched_setaffinity to CPUs \(cpus)", errno: $0.errno) }
    }

    /// execvp(3): replaces this process with `arguments[0]`, searched in
    /// PATH. Returns only on failure.
    public static func exec(_ arguments: [String]) -> SystemError {
        Host.exec(arguments)
    }
}
