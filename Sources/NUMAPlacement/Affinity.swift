import NUMAModel

/// Turns the round's thread decisions into affinity actions (swaps first
/// class when both sides are single processes), and releases numabalance's
/// own pins that no longer fit.
extension PlacementRound {
    mutating func emitThreadActions() {
        var emittedSwap = Set<Int>()
        for u in assignments where target[u] >= 0 {
            guard let reason = threadReason[u] else { continue }
            let v = partner[u]
            if v >= 0, !units.isGroup(u), !units.isGroup(v) {
                guard !emittedSwap.contains(u) else { continue }
                emittedSwap.insert(u)
                emittedSwap.insert(v)
                emitSwap(u, v, reason: reason)
                continue
            }
            for i in units.memberRange(u) {
                let p = units.members[i]
                let k = target[u]
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

    private mutating func emitSwap(_ u: Int, _ v: Int, reason: Reason) {
        let a = units.leader(u), b = units.leader(v)
        let cpusA = nodes.cpus(ofNode: target[u], within: input.limit(a, nodes))
        let cpusB = nodes.cpus(ofNode: target[v], within: input.limit(b, nodes))
        remember(a, cpus: cpusA, node: target[u], expected: localityOn(u, target[u]))
        remember(b, cpus: cpusB, node: target[v], expected: localityOn(v, target[v]))
        actions.append(.swap(SwapProcesses(a: identity(a), aCPUs: cpusA, aNode: nodes.ids[target[u]],
                                           b: identity(b), bCPUs: cpusB, bNode: nodes.ids[target[v]],
                                           reason: reason)))
    }

    private mutating func remember(_ p: Int, cpus: CPUSet, node: Int, expected: Double) {
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
        for u in 0..<units.count where target[u] < 0 && units.totalLoad[u] > 0 {
            guard let placed = units.memberRange(u).compactMap({ ownPin(units.members[$0]) }).first else { continue }
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
        for u in 0..<units.count where targetNodes[u] == nil && target[u] < 0 {
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
            for i in units.memberRange(u) {
                let p = units.members[i]
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
    mutating func release(_ u: Int, from k: Int, reason: Reason) {
        nodeLoad[k] -= units.load(u, k)
        threadReason[u] = reason
        for i in units.memberRange(u) {
            let p = units.members[i]
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
