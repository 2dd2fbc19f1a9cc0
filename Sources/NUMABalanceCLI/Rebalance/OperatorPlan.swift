import NUMAModel
import NUMAProc

/// `rebalance --to NODE`: the operator chose the node. Threads go there
/// unless a user pinned them (the pin is respected: memory alone moves),
/// and every page on other nodes follows; still within the node's reserve
/// and the process's cpuset.
struct OperatorPlan {
    var topology: Topology
    var observation: Observation
    var node: NodeID
    var cpuset: EffectiveCpuset?
    /// Free memory kept above the high watermark, as a fraction of the node (the engine's default).
    var reserveFraction = 1.0 / 32

    func plan(mode: PlacementMode) throws -> Plan {
        guard let target = topology.node(node) else {
            throw RebalanceFailure("--to \(node): no such node (nodes: \(topology.nodeIDs.map(\.rawValue)))")
        }
        guard target.hasMemory else { throw RebalanceFailure("--to \(node): node \(node) has no memory") }
        let o = observation
        let mems = cpuset?.mems ?? (o.allowedNodes.isEmpty ? nil : o.allowedNodes)
        if let mems, !mems.contains(node) {
            throw RebalanceFailure("--to \(node): node \(node) is outside the process's cpuset (memory nodes \(mems.map(\.rawValue)))")
        }
        var actions: [Action] = []
        let before = o.locality
        let limit = PinOwnership.limit(cpuset: cpuset?.cpus ?? o.cpusetCPUs, topology: topology)
        let pinnedByUser = SpreadInterleave.isUserPinned(o, topology: topology)
        if target.hasCPUs, !pinnedByUser {
            let cpus = target.cpus.intersection(limit)
            guard !cpus.isEmpty else {
                throw RebalanceFailure("--to \(node): none of node \(node)'s CPUs (\(target.cpus)) is in the process's cpuset (\(limit))")
            }
            if cpus != o.allowedCPUs {
                actions.append(.setAffinity(SetAffinity(process: o.identity, cpus: cpus, nodes: [node], reason: Reason(
                    rule: .consolidate, summary: "operator: threads to node \(node) (--to)", destination: node,
                    localityBefore: before, expectedLocality: 1))))
            }
        }
        let resident = Self.residentBytes(o)
        let away = o.pages.pagesByNode.filter { $0.key != node && $0.value > 0 }
        let share = 1 - (o.pages.share(of: node) ?? 0)
        let bytes = UInt64(Double(resident) * share)
        if !away.isEmpty, bytes > 0 {
            let room = Self.room(target, fraction: reserveFraction)
            guard bytes <= room else {
                throw RebalanceFailure("--to \(node): moving about \(Output.bytes(bytes)) would take node \(node) "
                    + "below its reserve (free \(Output.bytes(target.memFreeBytes)), high watermark "
                    + "\(Output.bytes(target.highWatermarkBytes)) + 1/32 of the node): room for \(Output.bytes(room))")
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

    /// Resident bytes of the sampled memory: eligible bytes × resident share of the sample.
    static func residentBytes(_ o: Observation) -> UInt64 { o.residentBytes }

    /// Bytes that may arrive on a node: free above its high watermark plus the margin.
    static func room(_ node: Node, fraction: Double) -> UInt64 { node.room(fraction: fraction) }
}
