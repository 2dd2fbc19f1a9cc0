import NUMAModel

/// The memory migration filter (should_numa_migrate_memory, in userspace):
///
/// - two stages: a range moves to node d only if the previous observation
///   of the process also saw it remote with accesses from d (the kernel
///   compares a page's last two faulting nodes: a pattern seen twice is
///   real with probability ≈ P²);
/// - no ping-pong: a range the engine moved is not moved again within the
///   cool-down, to any node — the plan proves it from `RangeMemory.movedAt`.
/// Where the filter saw a range wanted: all of it on one node, or evenly
/// over a set of nodes (a unit numabalance spread over them), by the set's
/// two words (NodeMask).
public enum RangeDestination: Hashable, Sendable, Codable {
    case node(NodeIndex)
    case even(low: UInt64, high: UInt64)

    init(evenOver mask: NodeMask) { self = .even(low: mask.low, high: mask.high) }
}

public enum MigrationFilter {
    /// Whether the range passes the second stage for `destination` in
    /// observation `observation` of its process.
    public static func secondStage(_ memory: RangeMemory, destination: RangeDestination, observation: UInt32) -> Bool {
        memory.candidate == destination && memory.seenInObservation &+ 1 == observation
    }

    /// Whether a move at `movedAt` is still inside the no-ping-pong window.
    public static func recentlyMoved(_ movedAt: Double?, now: Double, window: Double) -> Bool {
        guard let movedAt else { return false }
        return now - movedAt < window
    }
}

extension ProcessState {
    /// Records this observation's view of a range: remote for `destination`
    /// with accesses from it, or not a candidate (nil). Returns whether the
    /// previous observation saw the same, i.e. whether the range passes.
    mutating func view(rangeStart: UInt64, destination: RangeDestination?) -> (slot: Int, passes: Bool) {
        let slot = rangeIndex(start: rangeStart)
        guard let destination else {
            ranges[slot].candidate = nil
            return (slot, false)
        }
        let passes = MigrationFilter.secondStage(ranges[slot], destination: destination,
                                                 observation: observations)
        ranges[slot].candidate = destination
        ranges[slot].seenInObservation = observations
        return (slot, passes)
    }

    /// Drops remembered ranges the process no longer maps.
    mutating func pruneRanges(keeping observed: [RangePlacement]) {
        guard ranges.count > observed.count + 8 else { return }
        let live = Set(observed.map(\.start))
        ranges.removeAll { !live.contains($0.start) }
    }
}

/// Where a unit's memory should be.
enum MemoryTarget: Equatable {
    case none
    /// All of it on one node: the node its threads run on (or are sent to).
    case node(NodeIndex)
    /// Spread over nodes (a group or process too big for one node, or a
    /// user's pin to several): pages move by the 3/4 rule.
    case spread(NodeMask)
    /// Evenly over the nodes numabalance gave a unit too big for one node:
    /// 2 MiB chunks in turn, as MPOL_INTERLEAVE would have placed them.
    case even(NodeMask)
}

extension PlacementRound {
    /// The node(s) a unit's memory should live on this round.
    func memoryTarget(_ u: UnitIndex) -> MemoryTarget {
        guard Capacity.accesses(load: units.totalLoad[u]) else { return .none }
        let memoryNodes = units.memoryNodes[u].intersection(nodes.memoryNodes)
        if units.isPinned(u) {
            let pins = units.pinnedNodes[u].intersection(memoryNodes)
            let list = pins.indices(upTo: nodes.count)
            if list.count == 1 { return .node(list[0]) }
            return list.isEmpty ? .none : .spread(pins)
        }
        if let k = target[u] { return .node(k) }
        if let mask = targetNodes[u] ?? ownNodes(u) { return .even(mask) }
        if cooling[u], let placed = state.processes[slot[units.leader(u)]].placedNode, settled[u] == placed {
            return .node(placed)
        }
        if let c = settled[u] { return .node(c) }
        // Runs spread but would fit one node: its threads are to be gathered
        // first (consolidate, when a node has room); spreading its memory
        // after where the scheduler happened to put them would move it twice.
        if fitsOneNode(u) { return .none }
        var active = NodeMask()
        let cpu = units.cpuRow(u)
        for k in ActiveNodes.of(cpuFaults: cpu).map(NodeIndex.init) where memoryNodes.contains(k) { active.insert(k) }
        let list = active.indices(upTo: nodes.count)
        if list.count == 1 { return .node(list[0]) }
        return list.isEmpty ? .none : .spread(active)
    }

    /// The unit's threads ran on node k this round: "accesses from k".
    func accessesFrom(_ u: UnitIndex, _ k: NodeIndex) -> Bool {
        units.members(of: u).contains { input.threadMillis[$0, k] > 0 }
    }
}
