import NUMAModel
import NUMAProc

extension TopologyReader {
    /// Per-CPU busy and total ticks now, from /proc/stat.
    public func cpuTimes() throws(TopologyError) -> [CPUTimes] {
        let path = procRoot + "/stat"
        let text = try contents(path)
        do { return try ProcStat.parseCPUs(text, source: path) } catch {
            throw TopologyError(path: path, reason: error.reason)
        }
    }

    /// Each node's CPU utilisation between two /proc/stat readings: busy ticks
    /// of its CPUs ÷ all ticks of its CPUs. CPU-less nodes are left out.
    public static func utilization(topology: Topology, before: [CPUTimes],
                                   after: [CPUTimes]) -> [NodeUtilization] {
        let earlier = Dictionary(before.map { ($0.cpu, $0) }, uniquingKeysWith: { a, _ in a })
        var busy: [NodeID: UInt64] = [:]
        var total: [NodeID: UInt64] = [:]
        for sample in after {
            guard let node = topology.node(ofCPU: sample.cpu), let old = earlier[sample.cpu] else { continue }
            // Counters only grow; a CPU that went offline and back may restart them.
            busy[node, default: 0] += sample.busyTicks &- min(old.busyTicks, sample.busyTicks)
            total[node, default: 0] += sample.totalTicks &- min(old.totalTicks, sample.totalTicks)
        }
        return topology.nodes.filter(\.hasCPUs).map { node in
            let all = total[node.id] ?? 0
            let fraction = all == 0 ? 0 : Double(busy[node.id] ?? 0) / Double(all)
            return NodeUtilization(node: node.id, busyFraction: fraction)
        }
    }

    /// Measures each node's CPU utilisation over `interval`.
    public func utilization(topology: Topology, over interval: Duration) async throws -> [NodeUtilization] {
        let before = try cpuTimes()
        try await Task.sleep(for: interval)
        let after = try cpuTimes()
        return Self.utilization(topology: topology, before: before, after: after)
    }
}
