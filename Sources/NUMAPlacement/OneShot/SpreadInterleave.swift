import NUMAModel

/// A process that does not fit one node runs spread; its memory should be
/// spread over its threads' nodes too. The engine moves whole ranges by the
/// 3/4 rule, which for a process with one big buffer means moving all of
/// it from one node to the other. A one-shot interleaves instead: each
/// eligible private mapping in 2 MiB chunks (huge-page sized), chunk k to
/// the k-th active node in turn, as MPOL_INTERLEAVE would have placed it.
public enum SpreadInterleave {

    /// The nodes of a user's pin (it decides where the threads may run), else
    /// those whose CPU time is over a third of the busiest node's (ACTIVE_NODE_FRACTION).
    public static func activeNodes(_ observation: Observation, topology: Topology) -> [NodeID] {
        if isUserPinned(observation, topology: topology) {
            return topology.nodes.filter { $0.hasMemory && !$0.cpus.intersection(observation.allowedCPUs).isEmpty }
                .map(\.id)
        }
        let cpu = observation.cpuSecondsByNode
        guard let most = cpu.values.max(), most > 0 else { return [] }
        return cpu.filter { $0.value * 3 > most }.keys.sorted()
    }

    public static func apply(_ actions: [Action], observation: Observation, privateRanges: [AddressRange],
                             topology: Topology) -> [Action] {
        let spreading = actions.compactMap { action -> MoveRanges? in
            if case .moveRanges(let m) = action, m.reason.rule == .spreadOverActiveNodes { return m }
            return nil
        }
        let nodes = activeNodes(observation, topology: topology)
        guard let first = spreading.first, nodes.count > 1 else { return actions }
        var ranges: [NodeID: [AddressRange]] = [:]
        var bytes: [NodeID: UInt64] = [:]
        var index = 0
        for mapping in privateRanges {
            index = InterleaveChunks.forEach(start: mapping.start, end: mapping.end, turn: index,
                                             slots: nodes.count) { start, end, slot in
                ranges[nodes[slot], default: []].append(AddressRange(start: start, end: end))
                bytes[nodes[slot], default: 0] += end - start
            }
        }
        let share = observation.pages.shares
        let moves: [Action] = nodes.compactMap { node in
            guard let list = ranges[node] else { return nil }
            var reason = first.reason
            reason.destination = node
            reason.summary = "process does not fit one node: its memory is interleaved over its threads' nodes "
                + "\(nodes.map(\.rawValue)) in 2 MiB chunks, as MPOL_INTERLEAVE would place it"
            // Resident bytes, not the mappings' size (a sparse heap).
            let away = UInt64(Double(bytes[node] ?? 0) * (observation.residentFraction ?? 1) * (1 - (share[node] ?? 0)))
            return .moveRanges(MoveRanges(process: first.process, ranges: list, to: node, bytes: away, reason: reason))
        }
        let others = actions.filter { action in
            if case .moveRanges(let m) = action, m.reason.rule == .spreadOverActiveNodes { return false }
            return true
        }
        // The threads stay on the nodes their memory is spread over (all of
        // them if the user pinned them elsewhere or they already are).
        let cpus = nodes.compactMap(topology.node).reduce(CPUSet()) { $0.union($1.cpus) }
            .intersection(PinOwnership.limit(cpuset: observation.cpusetCPUs, topology: topology))
        var threads: [Action] = []
        if !cpus.isEmpty, cpus != observation.allowedCPUs, !isUserPinned(observation, topology: topology) {
            var reason = first.reason
            reason.destination = nil
            reason.summary = "process does not fit one node: its threads stay on the nodes \(nodes.map(\.rawValue)) "
                + "its memory is interleaved over"
            threads.append(.setAffinity(SetAffinity(process: first.process, cpus: cpus, nodes: nodes, reason: reason)))
        }
        return threads + others + moves
    }

    /// A user's pin (PinOwnership), as the session judged it, or by the rule.
    public static func isUserPinned(_ observation: Observation, topology: Topology) -> Bool {
        let owner = observation.affinityOwner ?? PinOwnership.owner(
            affinities: observation.affinities, cpuset: observation.cpusetCPUs, own: nil, topology: topology)
        return owner == .user
    }

    /// Whether the actions hold a spread of memory (then no later round re-spreads it).
    public static func spreads(_ actions: [Action]) -> Bool {
        actions.contains { $0.reason.rule == .spreadOverActiveNodes }
    }
}
