import NUMAModel
import NUMASystem

/// A policy's directive made this thread's own placement, for `exec
/// --policy`: the memory policy (pin binds, preferred prefers, interleave
/// interleaves, over the directive's nodes with memory) and the affinity
/// (the CPUs of its nodes with CPUs); both are inherited across execve.
extension OwnPolicy {
    public enum DirectiveFailure: Error, Sendable {
        /// None of the directive's nodes has memory on this machine.
        case noMemoryNode
        /// None has CPUs for the threads (a pin or interleave on memory-only nodes).
        case noCPUNode
        case kernel(SystemError)
    }

    /// What was set; `preferManyRefused` when the kernel has no
    /// MPOL_PREFERRED_MANY (before Linux 5.15) and the first node alone is
    /// preferred instead.
    public struct AppliedDirective: Sendable {
        public var memory: MemoryPolicySpec
        public var cpus: CPUSet?
        public var preferManyRefused: SystemError?
    }

    public static func apply(_ directive: PolicyDirective,
                             topology: Topology) -> Result<AppliedDirective, DirectiveFailure> {
        let memory = directive.memoryNodes.filter { topology.node($0)?.hasMemory == true }
        guard let first = memory.first else { return .failure(.noMemoryNode) }
        var spec: MemoryPolicySpec
        switch directive {
        case .pin: spec = MemoryPolicySpec(mode: .bind, nodes: memory)
        case .preferred: spec = MemoryPolicySpec(mode: memory.count > 1 ? .preferredMany : .preferred, nodes: memory)
        case .interleave: spec = MemoryPolicySpec(mode: .interleave, nodes: memory)
        }
        var refused: SystemError?
        if case .failure(let error) = setMemoryPolicy(spec) {
            guard spec.mode == .preferredMany else { return .failure(.kernel(error)) }
            spec = MemoryPolicySpec(mode: .preferred, nodes: [first])
            if case .failure(let again) = setMemoryPolicy(spec) { return .failure(.kernel(again)) }
            refused = error
        }
        let cpus = directive.cpuNodes.filter { topology.node($0)?.hasCPUs == true }
            .compactMap(topology.node).reduce(CPUSet()) { $0.union($1.cpus) }
        // A preferred node without CPUs (a memory tier): the threads stay where they may run.
        guard !cpus.isEmpty else {
            if case .preferred = directive {
                return .success(AppliedDirective(memory: spec, cpus: nil, preferManyRefused: refused))
            }
            return .failure(.noCPUNode)
        }
        if case .failure(let error) = setAffinity(cpus) { return .failure(.kernel(error)) }
        return .success(AppliedDirective(memory: spec, cpus: cpus, preferManyRefused: refused))
    }
}
