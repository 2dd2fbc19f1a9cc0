import NUMAModel

extension Policy {
    /// The policy's placement as a directive for `DirectivePlanner` on a
    /// machine of this topology; nil for auto (the engine decides) and
    /// ignore (nothing is done).
    ///
    /// - `nodes: all` is every node with memory;
    /// - pin's `cpuNodes` default to its nodes that have CPUs (a CPU-less
    ///   memory node takes the memory, never the threads).
    public func directive(topology: Topology) -> PolicyDirective? {
        let nodes: [NodeID]
        switch placement.nodes {
        case .list(let list)?: nodes = list
        case .all?: nodes = topology.nodes.filter(\.hasMemory).map(\.id)
        case nil: nodes = []
        }
        switch placement.mode {
        case .auto, .ignore:
            return nil
        case .pin:
            let cpuNodes = placement.cpuNodes ?? nodes.filter { topology.node($0)?.hasCPUs == true }
            return .pin(cpuNodes: cpuNodes, memoryNodes: nodes)
        case .preferred:
            return .preferred(nodes: nodes)
        case .interleave:
            return .interleave(nodes: nodes)
        }
    }

    /// Mode ignore: the matched processes are left alone, not even sampled.
    public var ignores: Bool { placement.mode == .ignore }
}
