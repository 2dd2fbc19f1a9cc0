/// The memory reserve of nodes: free memory after the planned moves must stay
/// above the high watermark plus a margin (DESIGN.md), so a migration never
/// drives a node into reclaim.
struct MemoryReserve {
    private var free: Rows<NodeIndex, UInt64>
    private let reserve: Rows<NodeIndex, UInt64>
    private let hasMemory: NodeMask

    init(nodes: NodeTable) {
        free = nodes.memFree
        reserve = nodes.reserve
        hasMemory = nodes.memoryNodes
    }

    /// Bytes that may still arrive on the node.
    func room(on node: NodeIndex) -> UInt64 {
        guard hasMemory.contains(node), free[node] > reserve[node] else { return 0 }
        return free[node] - reserve[node]
    }

    func allows(_ bytes: UInt64, to node: NodeIndex) -> Bool { bytes <= room(on: node) }

    /// Books `bytes` arriving on `node`; false (and nothing booked) if the
    /// node would fall below its reserve. Freed memory on the source is not
    /// counted until the next round's topology shows it.
    mutating func book(_ bytes: UInt64, to node: NodeIndex) -> Bool {
        guard allows(bytes, to: node) else { return false }
        free[node] -= bytes
        return true
    }
}
