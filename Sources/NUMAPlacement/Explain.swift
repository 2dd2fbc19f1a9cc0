import NUMAModel

extension PlacementRound {
    /// Why a unit's threads go to node k. Static text and numbers: no
    /// string is built per action while planning.
    func moveReason(_ u: UnitIndex, to k: NodeIndex, preferred p: NodeIndex, rule: PlacementRule) -> Reason {
        let group = units.isGroup(u)
        let summary: String
        switch rule {
        case .consolidate:
            summary = group
                ? "group fits one node; its preferred node has no room, this one has: its threads gather here, memory to follow"
                : "process fits one node; its preferred node has no room, this one has: its threads gather here, memory to follow"
        default:
            summary = k == p
                ? (group ? "group goes to its preferred node, which has room" : "process goes to its preferred node, which has room")
                : "goes to a node whose weight beats its current node's by at least SMALLIMP"
        }
        let after = nodeLoad[k] + units.totalLoad[u] - (lifted[u] ? 0 : units.load(u, k))
        return Reason(
            rule: rule, summary: summary, source: settled[u].map { nodes.ids[$0] }, destination: nodes.ids[k],
            comparisons: [Comparison("w(dst)", Double(units.weight(u, k))),
                          Comparison("load(unit)", Double(units.totalLoad[u])),
                          Comparison("load(dst) after", Double(after)),
                          Comparison("capacity(dst)", Double(nodes.capacity[k]))],
            localityBefore: units.locality[u], expectedLocality: localityOn(u, k), bytes: 0)
    }

    /// One deferral per process and rule, counting what was held back.
    mutating func postpone(_ p: ProcessIndex, rule: PlacementRule, summary: String, destination: NodeIndex? = nil,
                           bytes: UInt64 = 0, comparisons: [Comparison] = []) {
        deferred.append(Deferral(process: identity(p), reason: Reason(
            rule: rule, summary: summary, destination: destination.map { nodes.ids[$0] },
            comparisons: comparisons, localityBefore: input.locality[p], bytes: bytes)))
    }
}
