/// One NUMA node: its CPUs (empty for a CPU-less memory node such as a CXL
/// or PMEM tier), its memory (zero for a memory-less node) and its reserve.
public struct Node: Hashable, Sendable, Codable {
    public var id: NodeID
    public var cpus: CPUSet
    public var memTotalBytes: UInt64
    public var memFreeBytes: UInt64
    /// Sum of the node's zones' `high` watermarks (/proc/zoneinfo): the kernel
    /// starts reclaim below it, so a migration must not push free memory under it.
    public var highWatermarkBytes: UInt64
    /// Physical cores among `cpus` (SMT siblings share one); nil when unknown
    /// (then every CPU counts as a core).
    public var coreCount: Int?

    public init(id: NodeID, cpus: CPUSet, memTotalBytes: UInt64, memFreeBytes: UInt64,
                highWatermarkBytes: UInt64 = 0, coreCount: Int? = nil) {
        self.id = id
        self.cpus = cpus
        self.memTotalBytes = memTotalBytes
        self.memFreeBytes = memFreeBytes
        self.highWatermarkBytes = highWatermarkBytes
        self.coreCount = coreCount
    }

    /// What a second hardware thread of a core adds, in milli-CPUs: SMT
    /// siblings share the core's execution units (a second thread commonly
    /// yields a quarter to a third more), so they are not full CPUs.
    public static let smtSiblingMilliCPUs = 300

    /// Runnable load the node holds without queueing, in milli-CPUs, over
    /// `usable` of its CPUs (isolated ones left out): a core 1000, each
    /// further sibling of it `smtSiblingMilliCPUs`.
    public func capacityMilliCPUs(usable: Int) -> Int {
        guard cpus.count > 0, usable > 0 else { return 0 }
        let cores = min(coreCount ?? cpus.count, cpus.count)
        let full = cores * 1000 + (cpus.count - cores) * Self.smtSiblingMilliCPUs
        return full * usable / cpus.count
    }

    public var hasCPUs: Bool { !cpus.isEmpty }
    public var hasMemory: Bool { memTotalBytes > 0 }

    /// Free memory a migration must leave on the node: the high watermark
    /// (below it kswapd reclaims) plus `fraction` of the node's memory.
    public func reserveBytes(fraction: Double) -> UInt64 {
        highWatermarkBytes + UInt64(Double(memTotalBytes) * fraction)
    }

    /// Bytes that may still arrive on the node above its reserve.
    public func room(fraction: Double) -> UInt64 {
        let reserve = reserveBytes(fraction: fraction)
        return memFreeBytes > reserve ? memFreeBytes - reserve : 0
    }
}

/// The machine's NUMA layout: nodes sorted by id and the SLIT distances.
public struct Topology: Hashable, Sendable, Codable {
    public var nodes: [Node]
    /// `distances[i][j]` is the distance from `nodes[i]` to `nodes[j]`
    /// (positions in `nodes`, not node ids, which may be sparse).
    public var distances: [[Int]]
    /// CPUs isolated from the scheduler's balancing (isolcpus, in
    /// /sys/devices/system/cpu/isolated): numabalance never puts threads there.
    public var isolatedCPUs: CPUSet

    public init(nodes: [Node], distances: [[Int]], isolatedCPUs: CPUSet = CPUSet()) {
        self.nodes = nodes.sorted { $0.id < $1.id }
        self.distances = distances
        self.isolatedCPUs = isolatedCPUs
    }

    enum CodingKeys: String, CodingKey { case nodes, distances, isolatedCPUs }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(nodes: try c.decode([Node].self, forKey: .nodes),
                  distances: try c.decode([[Int]].self, forKey: .distances),
                  isolatedCPUs: try c.decodeIfPresent(CPUSet.self, forKey: .isolatedCPUs) ?? CPUSet())
    }

    public var nodeIDs: [NodeID] { nodes.map(\.id) }

    public func node(_ id: NodeID) -> Node? { nodes.first { $0.id == id } }

    public func index(of id: NodeID) -> Int? { nodes.firstIndex { $0.id == id } }

    /// The node whose CPU list holds `cpu`.
    public func node(ofCPU cpu: Int) -> NodeID? {
        nodes.first { $0.cpus.contains(cpu) }?.id
    }

    /// SLIT distance; 10 is local. Nil for an unknown node.
    public func distance(from a: NodeID, to b: NodeID) -> Int? {
        guard let i = index(of: a), let j = index(of: b),
              i < distances.count, j < distances[i].count else { return nil }
        return distances[i][j]
    }

    public var allCPUs: CPUSet { nodes.reduce(CPUSet()) { $0.union($1.cpus) } }
}

/// Per-node CPU utilisation over an interval: busy time ÷ (CPUs × interval).
public struct NodeUtilization: Hashable, Sendable, Codable {
    public var node: NodeID
    public var busyFraction: Double
    public init(node: NodeID, busyFraction: Double) {
        self.node = node
        self.busyFraction = busyFraction
    }
}
