import NUMAModel

/// `rebalance --to NODE`: the operator chose the node. Threads go there
/// unless a user pinned them (the pin is respected: memory alone moves),
/// and every page on other nodes follows; still within the node's reserve
/// (the engine's: `PlacementConfig.reserveFraction`) and the process's cpuset.
public struct OperatorPlan {
    public var topology: Topology
    public var observation: Observation
    public var node: NodeID
    /// The cgroup's effective cpuset, when known: CPUs and memory nodes.
    public var cpusetCPUs: CPUSet?
    public var cpusetMems: [NodeID]?
    public var reserveFraction = PlacementConfig().reserveFraction

    public init(topology: Topology, observation: Observation, node: NodeID, cpusetCPUs: CPUSet?, cpusetMems: [NodeID]?) {
        self.topology = topology
        self.observation = observation
        self.node = node
        self.cpusetCPUs = cpusetCPUs
        self.cpusetMems = cpusetMems
    }

    /// Why the operator's node cannot be honoured: the sentence the CLI prints.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public func plan(mode: PlacementMode) throws(Refusal) -> Plan {
        guard let target = topology.node(node) else {
            throw Refusal("--to \(node): no such node (nodes: \(topology.nodeIDs.map(\.rawValue)))")
        }
        guard target.hasMemory else { throw Refusal("--to \(node): node \(node) has no memory") }
        let o = observation
        let mems = cpusetMems ?? (o.allowedNodes.isEmpty ? nil : o.allowedNodes)
        if let mems, !mems.contains(node) {
            throw Refusal("--to \(node): node \(node) is outside the process's cpuset (memory nodes \(mems.map(\.rawValue)))")
        }
        var actions: [Action] = []
        let before = o.locality
        let limit = PinOwnership.limit(cpuset: cpusetCPUs ?? o.cpusetCPUs, topology: topology)
        let pinnedByUser = SpreadInterleave.isUserPinned(o, topology: topology)
        if target.hasCPUs, !pinnedByUser {
            let cpus = target.cpus.intersection(limit)
            guard !cpus.isEmpty else {
                throw Refusal("--to \(node): none of node \(node)'s CPUs (\(target.cpus)) is in the process's cpuset (\(limit))")
            }
            if cpus != o.allowedCPUs {
                actions.append(.setAffinity(SetAffinity(process: o.identity, cpus: cpus, nodes: [node], reason: Reason(
                    rule: .consolidate, summary: "operator: threads to node \(node) (--to)", destination: node,
                    localityBefore: before, expectedLocality: 1))))
            }
        }
        let resident = o.residentBytes
        let away = o.pages.pagesByNode.filter { $0.key != node && $0.value > 0 }
        let share = 1 - (o.pages.share(of: node) ?? 0)
        let bytes = UInt64(Double(resident) * share)
        if !away.isEmpty, bytes > 0 {
            let room = target.room(fraction: reserveFraction)
            guard bytes <= room else {
                throw Refusal("--to \(node): moving about \(ByteCount.text(bytes)) would take node \(node) "
                    + "below its reserve (free \(ByteCount.text(target.memFreeBytes)), high watermark "
                    + "\(ByteCount.text(target.highWatermarkBytes)) + 1/\(Int((1 / reserveFraction).rounded())) of the node): room for \(ByteCount.text(room))")
            }
            let summary = pinnedByUser
                ? "operator: memory to node \(node) (--to); the threads' pin (CPUs \(o.allowedCPUs)) is the user's and stays"
                : "operator: memory follows the threads to node \(node) (--to)"
            actions.append(.movePages(MovePages(process: o.identity, from: away.keys.sorted(), to: node, bytes: bytes,
                                                reason: Reason(rule: .memoryFollowsCPU, summary: summary,
                                                               destination: node, localityBefore: before,
                                                               expectedLocality: pinnedByUser ? nil : 1, bytes: bytes))))
        }
        // Shared objects move by their own policy, before the private pages.
        let objects = SharedRanges.objectsAway(from: node, observation: o, reason: Reason(
            rule: .sharedObjectPolicy, summary: "operator: shared memory to node \(node) (--to)", destination: node,
            localityBefore: before))
        let threads = actions.filter { if case .setAffinity = $0 { return true } else { return false } }
        return Plan(time: o.time, mode: mode, actions: threads + objects + actions.filter {
            if case .setAffinity = $0 { return false } else { return true }
        })
    }
}
