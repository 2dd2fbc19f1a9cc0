import NUMAModel

/// Units too big for any one node (numa01's processes on one-CPU nodes, a
/// group whose threads outnumber a node's CPUs): numabalance gives them the
/// fewest nodes with room, nearest first, as numad binds a process to the
/// nodes it needs, and spreads their memory evenly over those nodes. Left to
/// the scheduler their threads wander over every node, and memory chasing
/// them moves again and again (on numa01 over 4 one-CPU nodes the kernel's
/// balancer moved 2.67× the misplaced pages in DESIGN.md's run, 5.77× in
/// the peers benchmark; numabalance 1.01×).
extension PlacementRound {
    /// Not held by the cool-down: a unit without its own set has nothing to
    /// flap between (once given one it keeps it), and a group that formed
    /// after one member was pinned alone (its partner was still allocating)
    /// would otherwise wait out the release's cool-down with its threads
    /// wandering and its memory chasing them.
    mutating func placeOversized() {
        for u in units.all where movable[u] && target[u] == nil && targetNodes[u] == nil
            && threadReason[u] == nil && units.totalLoad[u] > 0 && ownNodes(u) == nil && !fitsOneNode(u)
        {
            guard let set = nodeSet(for: u) else { continue }
            let list = set.indices(upTo: nodes.count)
            for k in nodes.all { nodeLoad[k] -= units.load(u, k) }
            for (k, share) in zip(list, loadShares(u, over: list)) { nodeLoad[k] += share }
            targetNodes[u] = set
            threadReason[u] = Reason(
                rule: .consolidate,
                summary: "\(units.isGroup(u) ? "group" : "process") too big for one node: its threads get the "
                    + "\(list.count) nearest nodes with room, its memory spread evenly over them",
                destination: nodes.ids[list[0]],
                comparisons: [Comparison("load(unit)", Double(units.totalLoad[u])),
                              Comparison("nodes", Double(list.count))],
                localityBefore: units.locality[u], expectedLocality: 1 / Double(list.count))
        }
    }

    /// The fewest nodes whose spare CPUs and memory hold the unit: first the
    /// node with most of its memory that has room, then the nearest ones
    /// (then most memory, then most room). A unit that fits one node's CPUs
    /// but not its memory gets as many nodes as its memory needs, never one
    /// node with all of it pulled there. Nil when even all of them do not,
    /// or when the set would be every node (nothing to gain over the scheduler).
    private func nodeSet(for u: UnitIndex) -> NodeMask? {
        let allowed = units.threadNodes[u].intersection(units.memoryNodes[u]).intersection(nodes.cpuNodes)
        let candidates = allowed.indices(upTo: nodes.count)
        // (With Capacity.fits' crumbs: an idle launcher on a node leaves its CPU free.)
        func room(_ k: NodeIndex) -> Int { nodes.capacity[k] + Capacity.idleThreadLoad - (nodeLoad[k] - units.load(u, k)) }
        let open = candidates.filter { room($0) >= 500 }
        guard let first = open.max(by: { a, b in
            let wa = units.weight(u, a), wb = units.weight(u, b)
            if wa != wb { return wa < wb }
            return room(a) != room(b) ? room(a) < room(b) : a > b
        }) else { return nil }
        let rest = open.filter { $0 != first }.sorted { a, b in
            let da = nodes.distance(first, a), db = nodes.distance(first, b)
            if da != db { return da < db }
            let wa = units.weight(u, a), wb = units.weight(u, b)
            if wa != wb { return wa > wb }
            return room(a) != room(b) ? room(a) > room(b) : a < b
        }
        // Memory a node can hold for the unit: its room above the reserve plus
        // what of the unit is already there.
        func memoryRoom(_ k: NodeIndex) -> UInt64 { reserve.room(on: k) + units.bytes(u, k) }
        let bytes = units.totalBytes(u)
        var set = NodeMask()
        var held = 0
        var heldBytes: UInt64 = 0
        for k in [first] + rest {
            set.insert(k)
            held += room(k)
            heldBytes += memoryRoom(k)
            if held >= units.totalLoad[u], heldBytes >= bytes { break }
        }
        guard held >= units.totalLoad[u], heldBytes >= bytes, set.count < nodes.cpuNodes.count else { return nil }
        return set
    }

    /// The unit's load over the nodes of its set: evenly, the remainder on
    /// the first. The set's room holds the whole; a node of it with less
    /// room than an even share is then counted over its CPUs.
    private func loadShares(_ u: UnitIndex, over list: [NodeIndex]) -> [Int] {
        let total = units.totalLoad[u]
        let even = total / max(1, list.count)
        var shares = list.map { _ in even }
        shares[0] += total - even * list.count
        return shares
    }

    /// The nodes numabalance gave every member of the unit, if that is still in force.
    func ownNodes(_ u: UnitIndex) -> NodeMask? {
        var common: [NodeIndex]?
        for p in units.members(of: u) {
            let s = state.processes[slot[p]]
            guard let placed = s.placedNodes, s.engineAffinity == input.allowedCPUs(p), !input.userPinned[p],
                  common == nil || common == placed else { return nil }
            common = placed
        }
        guard let common else { return nil }
        var mask = NodeMask()
        for k in common { mask.insert(k) }
        return mask
    }

    /// Affinity actions for the units sent to a set of nodes.
    mutating func emitNodeSets() {
        for u in units.all {
            guard let set = targetNodes[u], let reason = threadReason[u] else { continue }
            let list = set.indices(upTo: nodes.count)
            let shares = loadShares(u, over: list)
            for p in units.members(of: u) {
                let cpus = nodes.cpus(of: set, within: input.limit(p, nodes))
                state[slot[p]].engineAffinity = cpus
                state[slot[p]].placedNode = nil
                state[slot[p]].placedNodes = list
                var perNode = Array(repeating: 0, count: nodes.count)
                let memberShare = Double(input.totalLoad[p]) / Double(max(1, units.totalLoad[u]))
                for (k, share) in zip(list, shares) { perNode[k.row] = Int(Double(share) * memberShare) }
                state[slot[p]].moveLoad(shares: perNode)
                markActed(p, expected: reason.expectedLocality)
                guard cpus != input.allowedCPUs(p) else { continue }
                actions.append(.setAffinity(SetAffinity(process: identity(p), cpus: cpus, nodes: nodes.nodeIDs(of: set),
                                                        reason: reason)))
            }
        }
    }
}
