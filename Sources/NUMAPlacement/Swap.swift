import NUMAModel

/// Units settled on a node, bucketed by (node, preferred node): a swap for a
/// unit going s → p looks first at units on p that prefer s, then at units
/// on p that prefer neither, last at units happy on p; at most
/// `swapCandidateCap` are examined, so the search is never quadratic.
struct SwapCandidates {
    let nodeCount: Int
    /// By (node, preferred node): `bucket(on:preferring:)`.
    private(set) var buckets: [[UnitIndex]]
    var cursor: [Int]

    init(round: PlacementRound) {
        let n = round.nodes.count
        nodeCount = n
        buckets = Array(repeating: [], count: n * n)
        cursor = Array(repeating: 0, count: n * n)
        for u in round.units.all where round.movable[u] && !round.cooling[u] && !round.lifted[u] {
            guard let c = round.settled[u], let pref = round.preferred[u] else { continue }
            buckets[bucket(on: c, preferring: pref)].append(u)
        }
    }

    func bucket(on node: NodeIndex, preferring preferred: NodeIndex) -> Int { node.row * nodeCount + preferred.row }
}

enum SwapRule {
    /// The kernel's combined improvement of exchanging a task going s → d
    /// with one on d (task_numa_compare): the mover's gain plus the other's
    /// `w(s) − w(d)`; −1/16 if the other already sits on its preferred node,
    /// +1/8 if the swap sends it to its preferred node.
    static func improvement(taskImprovement: Int, otherWeightAtSource: Int, otherWeightAtDestination: Int,
                            otherPrefersSource: Bool, otherPrefersDestination: Bool) -> Int
    {
        var imp = taskImprovement + otherWeightAtSource - otherWeightAtDestination
        if otherPrefersDestination { imp -= imp / 16 }
        if otherPrefersSource { imp += imp / 8 }
        return imp
    }

    /// SMALLIMP and the best+15 rule: an improvement below 30 would only make
    /// tasks ping-pong; a new best must beat the old one by more than 15.
    static func beats(_ imp: Int, best: Int) -> Bool {
        imp >= KernelConstants.smallImp && imp > best + KernelConstants.smallImp / 2
    }
}

extension PlacementRound {
    /// Looks for a unit on p to exchange with u (on s). True if one was found
    /// and both were assigned.
    mutating func trySwap(_ u: UnitIndex, from s: NodeIndex, to p: NodeIndex, candidates: inout SwapCandidates) -> Bool {
        let taskImp = units.weight(u, p) - units.weight(u, s)
        var best: UnitIndex?
        var bestImp = 0
        var examined = 0
        let preferences = [s] + nodes.all.filter { $0 != s && $0 != p } + [p]
        search: for pref in preferences {
            let bucket = candidates.bucket(on: p, preferring: pref)
            let list = candidates.buckets[bucket]
            var i = candidates.cursor[bucket]
            while i < list.count, target[list[i]] != nil { i += 1 }
            candidates.cursor[bucket] = i
            while i < list.count {
                let v = list[i]
                i += 1
                guard target[v] == nil, v != u, units.threadNodes[v].contains(s) else { continue }
                examined += 1
                if examined > config.swapCandidateCap { break search }
                let imp = SwapRule.improvement(
                    taskImprovement: taskImp, otherWeightAtSource: units.weight(v, s),
                    otherWeightAtDestination: units.weight(v, p), otherPrefersSource: preferred[v] == s,
                    otherPrefersDestination: preferred[v] == p)
                // A candidate going to its own preferred node beats one that is not.
                let preferable = best.map { preferred[v] == s && preferred[$0] != s } ?? false
                guard preferable || SwapRule.beats(imp, best: bestImp) else { continue }
                guard Capacity.maySwap(loadA: units.totalLoad[u], loadB: units.totalLoad[v],
                                       sourceLoad: nodeLoad[s], destinationLoad: nodeLoad[p],
                                       sourceCapacity: nodes.capacity[s],
                                       destinationCapacity: nodes.capacity[p]) else { continue }
                best = v
                bestImp = max(bestImp, imp)
            }
        }
        guard let v = best else { return false }
        let before = Capacity.imbalance(sourceLoad: nodeLoad[s], destinationLoad: nodeLoad[p],
                                        sourceCapacity: nodes.capacity[s], destinationCapacity: nodes.capacity[p])
        let reasonU = swapReason(u, with: v, from: s, to: p, imp: bestImp, taskImp: taskImp)
        let reasonV = swapReason(v, with: u, from: p, to: s, imp: bestImp, taskImp: taskImp)
        assign(u, to: p, reason: reasonU)
        assign(v, to: s, reason: reasonV)
        partner[u] = v
        partner[v] = u
        let after = Capacity.imbalance(sourceLoad: nodeLoad[s], destinationLoad: nodeLoad[p],
                                       sourceCapacity: nodes.capacity[s], destinationCapacity: nodes.capacity[p])
        threadReason[u]?.comparisons += [Comparison("imbalance before", Double(before)),
                                         Comparison("imbalance after", Double(after))]
        return true
    }

    private func swapReason(_ u: UnitIndex, with v: UnitIndex, from s: NodeIndex, to d: NodeIndex, imp: Int,
                            taskImp: Int) -> Reason {
        Reason(
            rule: .swap,
            summary: "swaps nodes with another process: the destination is full and the swap gains at least SMALLIMP",
            source: nodes.ids[s], destination: nodes.ids[d],
            comparisons: [Comparison("imp", Double(imp)), Comparison("taskimp", Double(taskImp)),
                          Comparison("SMALLIMP", Double(KernelConstants.smallImp)),
                          Comparison("w(dst)", Double(units.weight(u, d))),
                          Comparison("w(src)", Double(units.weight(u, s))),
                          Comparison("partner pid", Double(identity(units.leader(v)).pid))],
            localityBefore: units.locality[u], expectedLocality: localityOn(u, d))
    }
}
