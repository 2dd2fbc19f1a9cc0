import NUMAModel

/// A set of nodes by their position in the topology (not their id). Two
/// words, so no allocation in the hot loops; machines beyond 128 nodes are
/// not supported by the engine (nodes past 127 are never chosen).
struct NodeMask: Hashable, Sendable {
    var low: UInt64 = 0
    var high: UInt64 = 0

    static let capacity = 128

    init() {}

    init(all count: Int) {
        for index in 0..<min(count, Self.capacity) { insert(NodeIndex(index)) }
    }

    mutating func insert(_ node: NodeIndex) {
        let index = node.row
        guard index >= 0, index < Self.capacity else { return }
        if index < 64 { low |= 1 << UInt64(index) } else { high |= 1 << UInt64(index - 64) }
    }

    func contains(_ node: NodeIndex) -> Bool {
        let index = node.row
        guard index >= 0, index < Self.capacity else { return false }
        return index < 64 ? low & (1 << UInt64(index)) != 0 : high & (1 << UInt64(index - 64)) != 0
    }

    func intersection(_ other: NodeMask) -> NodeMask {
        var mask = NodeMask()
        mask.low = low & other.low
        mask.high = high & other.high
        return mask
    }

    mutating func formUnion(_ other: NodeMask) {
        low |= other.low
        high |= other.high
    }

    var isEmpty: Bool { low == 0 && high == 0 }
    var count: Int { low.nonzeroBitCount + high.nonzeroBitCount }

    func indices(upTo count: Int) -> [NodeIndex] {
        (0..<min(count, Self.capacity)).map(NodeIndex.init).filter(contains)
    }
}

/// The topology as the engine uses it for one round: per-node arrays by
/// position, capacities in milli-CPUs, memory reserves in bytes.
struct NodeTable: Sendable {
    let topology: Topology
    let ids: Rows<NodeIndex, NodeID>
    let count: Int
    let cpus: Rows<NodeIndex, CPUSet>
    /// Runnable load a node holds without queueing (Node.capacityMilliCPUs:
    /// cores 1000, SMT siblings less, isolated CPUs not counted).
    let capacity: Rows<NodeIndex, Int>
    let memTotal: Rows<NodeIndex, UInt64>
    let memFree: Rows<NodeIndex, UInt64>
    /// High watermark plus margin: free memory must stay above it.
    let reserve: Rows<NodeIndex, UInt64>
    /// SLIT distances by position (10 local); empty when the topology gives none.
    let distances: [[Int]]
    /// Nodes that have CPUs (where threads can be placed).
    let cpuNodes: NodeMask
    /// Nodes that have memory (where pages can be placed).
    let memoryNodes: NodeMask
    /// Position by raw node id, and node position by CPU id: dense tables,
    /// since ids are small (a lookup per sampled page row must not hash).
    private let positionOfID: [Int]
    private let nodeOfCPU: [Int]

    init(topology: Topology, reserveFraction: Double) {
        self.topology = topology
        ids = Rows(topology.nodes.map(\.id))
        count = ids.count
        cpus = Rows(topology.nodes.map(\.cpus))
        let isolated = topology.isolatedCPUs
        capacity = Rows(topology.nodes.map { node in
            node.capacityMilliCPUs(usable: isolated.isEmpty ? node.cpus.count
                                   : node.cpus.ids.filter { !isolated.contains($0) }.count)
        })
        distances = topology.distances
        memTotal = Rows(topology.nodes.map(\.memTotalBytes))
        memFree = Rows(topology.nodes.map(\.memFreeBytes))
        reserve = Rows(topology.nodes.map { $0.reserveBytes(fraction: reserveFraction) })
        var cpuNodes = NodeMask()
        var memoryNodes = NodeMask()
        let maxID = topology.nodes.map(\.id.rawValue).max() ?? 0
        let maxCPU = topology.nodes.compactMap { $0.cpus.ids.last }.max() ?? 0
        var positions = Array(repeating: -1, count: min(maxID, 1 << 16) + 1)
        var cpuMap = Array(repeating: -1, count: min(maxCPU, 1 << 20) + 1)
        for (index, node) in topology.nodes.enumerated() {
            if node.hasCPUs { cpuNodes.insert(NodeIndex(index)) }
            if node.hasMemory { memoryNodes.insert(NodeIndex(index)) }
            if node.id.rawValue >= 0, node.id.rawValue < positions.count { positions[node.id.rawValue] = index }
            for cpu in node.cpus where cpu < cpuMap.count { cpuMap[cpu] = index }
        }
        self.cpuNodes = cpuNodes
        self.memoryNodes = memoryNodes
        positionOfID = positions
        nodeOfCPU = cpuMap
    }

    /// Every node, by position.
    var all: IndexRange<NodeIndex> { IndexRange(count: count) }

    /// Distance from node i to node j; 10 or 20 when unknown.
    func distance(_ i: NodeIndex, _ j: NodeIndex) -> Int {
        guard i.row < distances.count, j.row < distances[i.row].count else { return i == j ? 10 : 20 }
        return distances[i.row][j.row]
    }

    func position(of id: NodeID) -> NodeIndex? {
        let raw = id.rawValue
        // (The dense table's -1 marks an id no node has; it never leaves here.)
        guard raw >= 0, raw < positionOfID.count, positionOfID[raw] >= 0 else { return nil }
        return NodeIndex(positionOfID[raw])
    }

    func position(ofCPU cpu: Int) -> NodeIndex? {
        guard cpu >= 0, cpu < nodeOfCPU.count, nodeOfCPU[cpu] >= 0 else { return nil }
        return NodeIndex(nodeOfCPU[cpu])
    }

    /// The nodes having at least one CPU of `set`.
    func nodes(of set: CPUSet) -> NodeMask {
        var mask = NodeMask()
        for cpu in set.ids { if let index = position(ofCPU: cpu) { mask.insert(index) } }
        return mask
    }

    /// The CPUs of node k, within `limit` (PinOwnership.limit: the cpuset
    /// less isolated CPUs).
    func cpus(ofNode k: NodeIndex, within limit: CPUSet?) -> CPUSet {
        guard let limit else { return cpus[k] }
        return cpus[k].intersection(limit)
    }

    /// The CPUs of the nodes in `mask`, within `limit` (PinOwnership.limit).
    func cpus(of mask: NodeMask, within limit: CPUSet?) -> CPUSet {
        let list = mask.indices(upTo: count)
        if list.count == 1 {
            // The common case, one node: its CPU set as it is, no rebuilding.
            guard let limit else { return cpus[list[0]] }
            return cpus[list[0]].intersection(limit)
        }
        var ids: [Int] = []
        for index in mask.indices(upTo: count) { ids.append(contentsOf: cpus[index].ids) }
        let set = CPUSet(ids)
        guard let limit else { return set }
        return set.intersection(limit)
    }

    func nodeIDs(of mask: NodeMask) -> [NodeID] { mask.indices(upTo: count).map { ids[$0] } }
}
