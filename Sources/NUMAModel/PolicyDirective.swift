/// What a policy file orders for a process, reduced to nodes: the input of
/// `DirectivePlanner`. `auto` is not a directive (the engine decides) and
/// `ignore` is not one either (nothing is done), so neither appears here.
public enum PolicyDirective: Hashable, Sendable, Codable {
    /// Threads on the CPUs of `cpuNodes`, memory on `memoryNodes` (they
    /// differ for a CPU-less memory node such as a CXL expander).
    case pin(cpuNodes: [NodeID], memoryNodes: [NodeID])
    /// Memory toward `nodes` (MPOL_PREFERRED), threads on their CPUs where
    /// the cgroup allows; never a hard bind.
    case preferred(nodes: [NodeID])
    /// Memory spread evenly over `nodes` in 2 MiB chunks (MPOL_INTERLEAVE),
    /// threads allowed on all of their CPUs.
    case interleave(nodes: [NodeID])

    /// The mode as policy files spell it: "pin", "preferred", "interleave".
    public var mode: String {
        switch self {
        case .pin: "pin"
        case .preferred: "preferred"
        case .interleave: "interleave"
        }
    }

    /// The nodes memory goes to.
    public var memoryNodes: [NodeID] {
        switch self {
        case .pin(_, let memory): memory
        case .preferred(let nodes), .interleave(let nodes): nodes
        }
    }

    /// The nodes whose CPUs the threads run on.
    public var cpuNodes: [NodeID] {
        switch self {
        case .pin(let cpu, _): cpu
        case .preferred(let nodes), .interleave(let nodes): nodes
        }
    }
}
