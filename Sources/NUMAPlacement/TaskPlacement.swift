import NUMAModel

/// Where threads go (task_numa_migrate, process- and group-level):
///
/// 1. A unit that fits one node but runs spread is lifted off the nodes it
///    runs on, so units that all need consolidating compete fairly.
/// 2. Units, most misplaced first, go to their preferred node if it has room
///    (CPU follows memory); a lifted one that finds no room there goes to the
///    best node that has room (consolidate), its memory to follow; a settled
///    one tries a swap, then another node with a clearly better weight.
/// 3. Lifted units that found no node are put back; any node a move left
///    with more runnable load than CPUs has its last moves undone.
/// 4. A node that numabalance's own pins left over its CPUs (processes
///    pinned while they ran few threads, then grew) gives units away.
/// 5. A unit too big for any one node gets the fewest nodes with room.
extension PlacementRound {
    mutating func placeTasks() {
        for u in units.all where movable[u] && !cooling[u] && settled[u] == nil
            && preferred[u] != nil && fitsOneNode(u)
        {
            lifted[u] = true
            for k in nodes.all { nodeLoad[k] -= units.load(u, k) }
        }
        var candidates = SwapCandidates(round: self)
        for u in placementOrder() {
            guard let p = preferred[u] else { continue }
            if lifted[u] {
                if let k = consolidationNode(u, preferred: p) {
                    let rule: PlacementRule = k == p ? .cpuFollowsMemory : .consolidate
                    assign(u, to: k, reason: moveReason(u, to: k, preferred: p, rule: rule))
                }
            } else if let c = settled[u], target[u] == nil {
                placeSettled(u, on: c, preferred: p, candidates: &candidates)
            }
        }
        for u in units.all where lifted[u] && target[u] == nil {
            lifted[u] = false
            for k in nodes.all { nodeLoad[k] += units.load(u, k) }
        }
        undoOverfills()
        relieveOverfilledPins()
        placeOversized()
    }

    /// A node more than a quarter over its CPUs with units numabalance pinned
    /// there: the pinned unit with the least memory to carry goes to the
    /// node with room it weighs most (memory to follow), or, if no node has
    /// room, gets its cpuset back for the scheduler to spread. Not held by
    /// the cool-down: it undoes numabalance's own doing.
    private mutating func relieveOverfilledPins() {
        for k in nodes.all {
            // The pins' own load: threads free to run elsewhere (an unpinned
            // process the scheduler moved there for a moment) are the
            // scheduler's to move off again, not a reason to undo a pin.
            while pinnedLoad(on: k) > nodes.capacity[k] + nodes.capacity[k] / 4 {
                let pinned = units.all.filter { u in
                    target[u] == nil && units.totalLoad[u] > 0 && !units.isPinned(u)
                        && units.members(of: u).allSatisfy { ownPin($0) == k }
                }
                guard let u = pinned.min(by: { a, b in
                    let ba = units.totalBytes(a), bb = units.totalBytes(b)
                    return ba != bb ? ba < bb : a < b
                }) else { break }
                let room = nodes.all.filter { j in
                    j != k && units.threadNodes[u].contains(j)
                        && mayMove(u, to: j)
                        && reserve.allows(bytesToFollow(u, to: j), to: j)
                }
                let comparisons = [Comparison("load(\(nodes.ids[k]))", Double(nodeLoad[k])),
                                   Comparison("capacity(\(nodes.ids[k]))", Double(nodes.capacity[k])),
                                   Comparison("load(unit)", Double(units.totalLoad[u]))]
                if let j = room.max(by: { a, b in
                    let wa = units.weight(u, a), wb = units.weight(u, b)
                    return wa != wb ? wa < wb : nodeLoad[a] > nodeLoad[b]
                }) {
                    assign(u, to: j, reason: Reason(
                        rule: .capacity,
                        summary: "node \(nodes.ids[k]) runs more than its CPUs under numabalance's pins: "
                            + "this \(units.isGroup(u) ? "group" : "process") goes to node \(nodes.ids[j]), memory to follow",
                        source: nodes.ids[k], destination: nodes.ids[j], comparisons: comparisons,
                        localityBefore: units.locality[u]))
                } else {
                    release(u, from: k, reason: Reason(
                        rule: .release,
                        summary: "node \(nodes.ids[k]) runs more than its CPUs under numabalance's pins and no node has room: given its cpuset back",
                        comparisons: comparisons, localityBefore: units.locality[u]))
                }
            }
        }
    }

    /// Whether the unit's threads may go to d: d stays within its CPUs, and
    /// from every node the unit leaves the imbalance rule holds. A lifted
    /// unit (spread, to be gathered on one node) is judged by capacity only:
    /// the spread units are re-packed one after another with their loads
    /// off every node, as the kernel's swaps would exchange their threads.
    func mayMove(_ u: UnitIndex, to d: NodeIndex) -> Bool {
        if lifted[u] {
            return Capacity.mayMove(load: units.totalLoad[u], destinationLoad: nodeLoad[d],
                                    destinationCapacity: nodes.capacity[d])
        }
        let arriving = units.totalLoad[u] - units.load(u, d)
        guard Capacity.mayMove(load: arriving, destinationLoad: nodeLoad[d], destinationCapacity: nodes.capacity[d])
        else { return false }
        var destination = nodeLoad[d]
        for j in nodes.all where j != d && units.load(u, j) > 0 {
            let load = units.load(u, j)
            guard Capacity.keepsBalanceOrSmall(load: load, sourceLoad: nodeLoad[j], destinationLoad: destination,
                                               sourceCapacity: nodes.capacity[j],
                                               destinationCapacity: nodes.capacity[d]) else { return false }
            destination += load
        }
        return true
    }

    /// Load on node k of the units pinned there: by numabalance (every member)
    /// or by their user to k alone.
    func pinnedLoad(on k: NodeIndex) -> Int {
        var load = 0
        for u in units.all where target[u] == nil {
            if units.isPinned(u) {
                if units.pinnedNodes[u].indices(upTo: nodes.count) == [k] { load += units.load(u, k) }
            } else if units.members(of: u).allSatisfy({ ownPin($0) == k }) {
                load += units.load(u, k)
            }
        }
        return load
    }

    /// The node numabalance pinned process p to, if its pin is still in force.
    func ownPin(_ p: ProcessIndex) -> NodeIndex? {
        guard let placed = state.processes[slot[p]].placedNode,
              state.processes[slot[p]].engineAffinity == input.allowedCPUs(p), !input.userPinned[p] else { return nil }
        return placed
    }

    /// Units that want their threads elsewhere, most to gain first; on a tie
    /// the one with more memory on its preferred node (dearer to move), then
    /// the lower pid.
    private func placementOrder() -> [UnitIndex] {
        var wanting: [(unit: UnitIndex, gain: Double, bytes: UInt64)] = []
        for u in units.all where movable[u] && !cooling[u] {
            guard let p = preferred[u] else { continue }
            if lifted[u] || (settled[u].map { $0 != p } ?? false) {
                let gain = Double(units.totalLoad[u]) * (1 - (units.locality[u] ?? 0))
                wanting.append((u, gain, units.bytes(u, p)))
            }
        }
        wanting.sort { a, b in
            if a.gain != b.gain { return a.gain > b.gain }
            if a.bytes != b.bytes { return a.bytes > b.bytes }
            return a.unit < b.unit
        }
        return wanting.map(\.unit)
    }

    /// The preferred node if it has room, else the best node with room for
    /// the threads and for the memory that must follow them.
    private func consolidationNode(_ u: UnitIndex, preferred p: NodeIndex) -> NodeIndex? {
        let allowed = units.threadNodes[u].intersection(units.memoryNodes[u])
        func fits(_ k: NodeIndex) -> Bool {
            allowed.contains(k)
                && mayMove(u, to: k)
                && reserve.allows(bytesToFollow(u, to: k), to: k)
        }
        if fits(p) { return p }
        let others = nodes.all.filter { $0 != p && fits($0) }
        return others.min { a, b in
            let wa = units.weight(u, a), wb = units.weight(u, b)
            if wa != wb { return wa > wb }
            let la = units.load(u, a), lb = units.load(u, b)
            if la != lb { return la > lb }
            if nodeLoad[a] != nodeLoad[b] { return nodeLoad[a] < nodeLoad[b] }
            return a < b
        }
    }

    /// A unit running on one node that is not its preferred node.
    private mutating func placeSettled(_ u: UnitIndex, on c: NodeIndex, preferred p: NodeIndex,
                                       candidates: inout SwapCandidates)
    {
        let allowed = units.threadNodes[u]
        if allowed.contains(p), mayMove(u, to: p) {
            assign(u, to: p, reason: moveReason(u, to: p, preferred: p, rule: .cpuFollowsMemory))
            return
        }
        if config.swapsEnabled, allowed.contains(p), trySwap(u, from: c, to: p, candidates: &candidates) {
            return
        }
        // The kernel's fallback: another node whose weight beats the current
        // node's by at least SMALLIMP, with room.
        let here = units.weight(u, c)
        var best: NodeIndex?
        for k in allowed.indices(upTo: nodes.count) where k != c && k != p {
            let w = units.weight(u, k)
            guard w - here >= KernelConstants.smallImp, mayMove(u, to: k) else { continue }
            if best.map({ w > units.weight(u, $0) }) ?? true { best = k }
        }
        if let k = best {
            assign(u, to: k, reason: moveReason(u, to: k, preferred: p, rule: .cpuFollowsMemory))
        } else {
            deferred.append(Deferral(process: identity(units.leader(u)), reason: Reason(
                rule: .capacity,
                summary: "preferred node has no room and no swap gains: memory follows CPU where the threads run",
                source: nodes.ids[p], destination: nodes.ids[c],
                comparisons: [Comparison("load(preferred)", Double(nodeLoad[p])),
                              Comparison("capacity(preferred)", Double(nodes.capacity[p])),
                              Comparison("load(unit)", Double(units.totalLoad[u]))],
                localityBefore: units.locality[u])))
            keepOnNode(u, c, preferred: p)
        }
    }

    /// Memory will follow the threads to c: numabalance keeps them there (as
    /// numad binds), or the scheduler moves them off again before the second
    /// stage of the migration filter sees them where the memory went. Only a
    /// unit that fits c and whose affinity (not the user's) reaches beyond it.
    private mutating func keepOnNode(_ u: UnitIndex, _ c: NodeIndex, preferred p: NodeIndex) {
        // Never a pin that locks threads onto a node already over its CPUs.
        guard units.threadNodes[u].contains(c), fitsOneNode(u), units.pinnedNodes[u].isEmpty,
              Capacity.mayMove(load: units.totalLoad[u], destinationLoad: nodeLoad[c] - units.load(u, c),
                               destinationCapacity: nodes.capacity[c]) else { return }
        let wider = units.members(of: u).contains { member in
            !input.allowedCPUs(member).isSubset(of: nodes.cpus(ofNode: c, within: input.limit(member, nodes)))
        }
        guard wider else { return }
        var reason = moveReason(u, to: c, preferred: p, rule: .consolidate)
        reason.summary = (units.isGroup(u) ? "group" : "process")
            + " fits one node; its preferred node has no room: its threads are kept on the node they run on, memory to follow"
        assign(u, to: c, reason: reason)
    }

    /// Sends the unit's threads to node k, moving its load in the accounting.
    mutating func assign(_ u: UnitIndex, to k: NodeIndex, reason: Reason) {
        if !lifted[u] { for j in nodes.all { nodeLoad[j] -= units.load(u, j) } }
        nodeLoad[k] += units.totalLoad[u]
        target[u] = k
        threadReason[u] = reason
        assignments.append(u)
    }

    private mutating func unassign(_ u: UnitIndex) {
        guard let k = target[u] else { return }
        nodeLoad[k] -= units.totalLoad[u]
        for j in nodes.all { nodeLoad[j] += units.load(u, j) }
        target[u] = nil
        threadReason[u] = nil
        lifted[u] = false
    }

    /// Never more runnable load on a node than CPUs for the sake of locality:
    /// a node that received a move and ends over its CPUs (or, for swaps
    /// only, fuller than before) has its latest assignments undone.
    private mutating func undoOverfills() {
        while let node = overfilledNode() {
            guard let index = assignments.lastIndex(where: { u in
                target[u] == node || partner[u].map { target[$0] == node } == true
            }) else { return }
            let u = assignments.remove(at: index)
            unassign(u)
            if let other = partner[u] {
                unassign(other)
                partner[other] = nil
                partner[u] = nil
                assignments.removeAll { $0 == other }
            }
        }
    }

    private func overfilledNode() -> NodeIndex? {
        for k in nodes.all where !Capacity.fits(nodeLoad[k], capacity: nodes.capacity[k]) {
            let moved = assignments.contains { target[$0] == k && partner[$0] == nil }
            let swapped = assignments.contains { partner[$0] != nil && target[$0] == k }
            if moved || (swapped && nodeLoad[k] > loadBefore[k]) { return k }
        }
        return nil
    }
}
