/// The preferred node (the kernel's numa_preferred_nid): where most of the
/// memory faults are, among the nodes the process may run on.
public enum PreferredNode {
    /// The argmax of `faults` over `allowed` positions.
    ///
    /// - Ties go to `current` (the node the threads run on), then to the lowest
    ///   position, so the answer never depends on iteration order.
    /// - A change away from `previous` needs the new node to beat it by
    ///   `margin` (a fraction): sampling noise must not flip the preferred node.
    /// - Nil when no allowed node has any fault.
    public static func choose(faults: [Int], allowed: (Int) -> Bool, current: Int?, previous: Int?,
                              margin: Double) -> Int?
    {
        choose(count: faults.count, faults: { faults[$0] }, allowed: allowed, current: current,
               previous: previous, margin: margin)
    }

    /// The same over faults given by position (no array needed).
    public static func choose(count: Int, faults: (Int) -> Int, allowed: (Int) -> Bool, current: Int?,
                              previous: Int?, margin: Double) -> Int?
    {
        var best: Int?
        var bestFaults = 0
        for node in 0..<count where allowed(node) {
            let value = faults(node)
            guard value > 0 else { continue }
            if let chosen = best {
                if value > bestFaults || (value == bestFaults && node == current && chosen != current) {
                    best = node
                    bestFaults = value
                }
            } else {
                best = node
                bestFaults = value
            }
        }
        guard let candidate = best else { return nil }
        if let previous, previous != candidate, previous >= 0, previous < count, allowed(previous) {
            let kept = Double(faults(previous))
            if Double(bestFaults) <= kept * (1 + margin) { return previous }
        }
        return candidate
    }
}

/// Active nodes of a group (ACTIVE_NODE_FRACTION): those whose CPU faults
/// exceed 1/3 of the busiest node's. A group that does not fit one node
/// spans these, and its shared pages on any of them count as local.
public enum ActiveNodes {
    public static func of(cpuFaults: [Int]) -> [Int] {
        let busiest = cpuFaults.max() ?? 0
        guard busiest > 0 else { return [] }
        return cpuFaults.indices.filter {
            cpuFaults[$0] * KernelConstants.activeNodeFraction > busiest
        }
    }
}

/// The memory migration rule for group members and for processes that span
/// nodes (should_numa_migrate_memory): pages on `source` move to
/// `destination` if the destination is much busier (`cpu(d) > 3·cpu(s)`),
/// else only when `cpu(d)·mem(s)·3 > cpu(s)·mem(d)·4` — the 3/4 hysteresis
/// that stops memory flip-flopping between two active nodes.
public enum GroupMigrationRule {
    public static func allows(cpuDestination: Int, cpuSource: Int, memDestination: Int,
                              memSource: Int) -> Bool
    {
        if cpuDestination > cpuSource * KernelConstants.activeNodeFraction { return true }
        return cpuDestination * memSource * 3 > cpuSource * memDestination * 4
    }
}
