import NUMAModel

/// Turns the round's thread decisions into affinity actions (swaps first
/// class when both sides are single processes), and releases numabalance's
/// own pins that no longer fit.
extension PlacementRound {
    mutating func emitThreadActions() {
        var emittedSwap = Set<UnitIndex>()
        for u in assignments {
            guard let k = target[u], let reason = threadReason[u] else { continue }
            if let v = partner[u], let kv = target[v], !units.isGroup(u), !units.isGroup(v) {
                guard !emittedSwap.contains(u) else { continue }
                emittedSwap.insert(u)
                emittedSwap.insert(v)
                emitSwap(u, to: k, v, to: kv, reason: reason)
                continue
            }
            for p in units.members(of: u) {
                let cpus = nodes.cpus(ofNode: k, within: input.limit(p, nodes))
                remember(p, cpus: cpus, node: k, expected: localityOn(u, k))
                guard cpus != input.allowedCPUs(p) else { continue }
                actions.append(.setAffinity(SetAffinity(process: identity(p), cpus: cpus, nodes: [nodes.ids[k]],
                                                        reason: reason)))
            }
        }
        emitNodeSets()
        releaseStalePins()
    }

    private mutating func emitSwap(_ u: UnitIndex, to ku: NodeIndex, _ v: UnitIndex, to kv: NodeIndex, reason: Reason) {
        let a = units.leader(u), b = units.leader(v)
        let cpusA = nodes.cpus(ofNode: ku, within: input.limit(a, nodes))
        let cpusB = nodes.cpus(ofNode: kv, within: input.limit(b, nodes))
        remember(a, cpus: cpusA, node: ku, expected: localityOn(u, ku))
        remember(b, cpus: cpusB, node: kv, expected: localityOn(v, kv))
        actions.append(.swap(SwapProcesses(a: identity(a), aCPUs: cpusA, aNode: nodes.ids[ku],
                                           b: identity(b), bCPUs: cpusB, bNode: nodes.ids[kv],
                                           reason: reason)))
    }

    private mutating func remember(_ p: ProcessIndex, cpus: CPUSet, node: NodeIndex, expected: Double) {
        state[slot[p]].engineAffinity = cpus
        state[slot[p]].placedNode = node
        state[slot[p]].placedNodes = nil
        state[slot[p]].moveLoad(to: node)
        expectedLocality[p] = expected
        markActed(p, expected: expected)
    }

    /// numabalance's own pin is its to change: when the unit no longer fits
    /// the node it was pinned to (it grew), its threads get their cpuset back.
    /// A unit grown a quarter over the node's CPUs is released even in its
    /// cool-down (the pin is what overfills the node); one whose threads left
    /// the node, only after it.
    private mutating func releaseStalePins() {
        releaseOutgrownSets()
        for u in units.all where target[u] == nil && units.totalLoad[u] > 0 {
            guard let placed = units.members(of: u).compactMap({ ownPin($0) }).first else { continue }
            // A quarter over the node's CPUs, not a passing burst of a thread.
            let tooSmall = units.totalLoad[u] > nodes.capacity[placed] + nodes.capacity[placed] / 4
            guard tooSmall || (!cooling[u] && !units.threadNodes[u].contains(placed)) else { continue }
            release(u, from: placed, reason: Reason(
                rule: .release,
                summary: "numabalance's pin to node \(nodes.ids[placed]) no longer fits the \(units.isGroup(u) ? "group" : "process"): given its cpuset back",
                comparisons: [Comparison("load(unit)", Double(units.totalLoad[u])),
                              Comparison("capacity(\(nodes.ids[placed]))", Double(nodes.capacity[placed]))],
                localityBefore: units.locality[u]))
        }
    }

    /// A node set numabalance gave is released when the unit outgrows it (a
    /// quarter over the set's CPUs), as a one-node pin is: the pin, not the
    /// work, would then hold its threads on too few CPUs.
    private mutating func releaseOutgrownSets() {
        for u in units.all where targetNodes[u] == nil && target[u] == nil {
            guard let set = ownNodes(u) else { continue }
            let list = set.indices(upTo: nodes.count)
            let capacity = list.reduce(0) { $0 + nodes.capacity[$1] }
            guard units.totalLoad[u] > capacity + capacity / 4 else { continue }
            threadReason[u] = Reason(
                rule: .release,
                summary: "numabalance's node set \(nodes.nodeIDs(of: set)) no longer holds the \(units.isGroup(u) ? "group" : "process"): given its cpuset back",
                comparisons: [Comparison("load(unit)", Double(units.totalLoad[u])),
                              Comparison("capacity(set)", Double(capacity))],
                localityBefore: units.locality[u])
            for p in units.members(of: u) {
                let cpus = nodes.cpus(of: nodes.cpuNodes, within: input.limit(p, nodes))
                state[slot[p]].engineAffinity = nil
                state[slot[p]].placedNodes = nil
                markActed(p, expected: input.locality[p])
                guard var reason = threadReason[u], cpus != input.allowedCPUs(p) else { continue }
                reason.localityBefore = input.locality[p]
                actions.append(.setAffinity(SetAffinity(
                    process: identity(p), cpus: cpus, nodes: nodes.nodeIDs(of: nodes.nodes(of: cpus)), reason: reason)))
            }
        }
    }

    /// Gives the unit's members pinned by numabalance their cpuset back (every
    /// node with CPUs); the scheduler spreads them, so their load leaves the node.
    mutating func release(_ u: UnitIndex, from k: NodeIndex, reason: Reason) {
        nodeLoad[k] -= units.load(u, k)
        threadReason[u] = reason
        for p in units.members(of: u) {
            guard ownPin(p) != nil else { continue }
            let all = NodeMask(all: nodes.count).intersection(nodes.cpuNodes)
            let cpus = nodes.cpus(of: all, within: input.limit(p, nodes))
            state[slot[p]].engineAffinity = nil
            state[slot[p]].placedNode = nil
            markActed(p, expected: input.locality[p])
            var own = reason
            own.localityBefore = input.locality[p]
            actions.append(.setAffinity(SetAffinity(
                process: identity(p), cpus: cpus, nodes: nodes.nodeIDs(of: nodes.nodes(of: cpus)), reason: own)))
        }
    }
}
