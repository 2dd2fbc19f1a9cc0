import NUMAModel

/// Shared objects of groups: one decision per object, carried out as a
/// memory policy on the object (mbind through one process that maps it), so
/// later faults by any member follow it too. Both modes: the kernel's
/// balancer leaves such pages where they are (DESIGN.md, the shm-group row).
extension PlacementRound {
    mutating func placeObject(_ key: String, unit u: UnitIndex, target: MemoryTarget) {
        var pages = Rows<NodeIndex, Int>(repeating: 0, count: nodes.count)
        var total = 0
        var via: ProcessIndex?
        var viaRanges: [AddressRange] = []
        var objectBytes: UInt64 = 0
        var absent = 0
        for p in units.members(of: u) {
            for range in input.ranges(p) where range.sharedObject == key {
                let counts = RangeCounts(range, nodes: nodes)
                for k in nodes.all { pages[k] += counts.pages[k] }
                total += counts.total
                absent += range.notResident
                if via == nil || via == p {
                    via = p
                    viaRanges.append(range.addressRange)
                    objectBytes += range.bytes
                }
            }
        }
        guard let via, total > 0 else { return }
        let (policy, nodesWanted, share) = objectWish(unit: u, target: target, pages: pages, total: total)
        let previous = state.objects[key]
        // The last move is remembered whatever the wish is now: a group whose
        // wish changes (one node, then its nodes interleaved) must not move
        // its object again within the cool-down.
        let lastMove = previous?.movedAt
        guard let policy, share >= config.minRemoteShare else {
            state.objects[key] = lastMove.map { ObjectMemory(candidate: NodeMask(), seenAt: now, movedAt: $0) }
            return
        }
        var wanted = NodeMask()
        for k in nodesWanted { wanted.insert(k) }
        state.objects[key] = ObjectMemory(candidate: wanted, seenAt: now, movedAt: lastMove)
        // Resident bytes, as every member's sample saw the object: a segment
        // reserved large and partly touched is charged what it holds.
        let residentShare = Double(total) / Double(total + absent)
        let bytes = UInt64(Double(objectBytes) * residentShare * share)
        if MigrationFilter.recentlyMoved(lastMove, now: now, window: config.cooldownSeconds) {
            postpone(via, rule: .noPingPong, summary: "shared object \(key) moved within the cool-down", bytes: bytes)
            return
        }
        guard let previous, previous.candidate == wanted else {
            postpone(via, rule: .twoStageFilter, summary: "shared object \(key): \(ByteCount.short(bytes)) seen misplaced once; acts if seen so again", bytes: bytes)
            return
        }
        let perNode = bytes / UInt64(max(1, nodesWanted.count))
        guard nodesWanted.allSatisfy({ reserve.allows(perNode, to: $0) }) else {
            postpone(via, rule: .reserve, summary: "shared object \(key): a node would fall below its reserve", bytes: bytes)
            return
        }
        guard state.budget.spend(bytes) else {
            postpone(via, rule: .budget, summary: "shared object \(key): over this round's migration budget", bytes: bytes)
            return
        }
        for k in nodesWanted { _ = reserve.book(perNode, to: k) }
        state.objects[key]?.movedAt = now
        let expected = policy == .preferred ? 1.0 : units.locality[u]
        let memberCount = units.members(of: u).count
        let reason = Reason(
            rule: .sharedObjectPolicy,
            summary: policy == .preferred
                ? "group of \(memberCount) runs on node \(nodes.ids[nodesWanted[0]]); its shared object follows (two consecutive observations)"
                : "group of \(memberCount) spans active nodes \(nodesWanted.map { nodes.ids[$0] }); its shared object is interleaved over them",
            comparisons: [Comparison("misplaced share", share), Comparison("members", Double(memberCount))],
            localityBefore: units.locality[u], expectedLocality: expected, bytes: bytes,
            seconds: state.budget.seconds(for: bytes))
        actions.append(.setObjectPolicy(SetObjectPolicy(
            objectKey: key, via: identity(via), ranges: viaRanges, policy: policy,
            nodes: nodesWanted.map { nodes.ids[$0] }, moveExisting: true, bytes: bytes, reason: reason)))
        for p in units.members(of: u) { markActed(p, expected: expected) }
    }

    /// The policy the object should have, on which nodes, and the share of it
    /// that is not there yet.
    private func objectWish(unit u: UnitIndex, target: MemoryTarget, pages: Rows<NodeIndex, Int>, total: Int)
        -> (ObjectPolicy?, [NodeIndex], Double)
    {
        switch target {
        case .none:
            return (nil, [], 0)
        case .node(let d):
            guard accessesFrom(u, d) else { return (nil, [], 0) }
            return (.preferred, [d], Double(total - pages[d]) / Double(total))
        case .spread(let mask), .even(let mask):
            let list = mask.indices(upTo: nodes.count)
            let even = 1 / Double(list.count)
            // What interleaving would move: the excess over an even share on
            // each active node, and all that lies outside them.
            var excess = 0.0
            for k in nodes.all {
                let share = Double(pages[k]) / Double(total)
                excess += mask.contains(k) ? max(0, share - even) : share
            }
            return (.interleave, list, excess)
        }
    }
}

/// The 3/4 rule over a unit spread across nodes: which node a range should
/// go to, updating the projected placement as ranges are chosen so that the
/// moves stop at the rule's boundary instead of overshooting.
struct SpreadProjection {
    /// Projected memory per node, MiB; the unit's decayed CPU faults.
    private var projected: Rows<NodeIndex, Int>
    private let cpu: Rows<NodeIndex, Int>

    init(round: PlacementRound, unit u: UnitIndex) {
        projected = Rows(round.nodes.all.map { Int(round.units.bytes(u, $0) >> 20) })
        cpu = Rows(round.units.cpuRow(u))
    }

    mutating func destination(for counts: RangeCounts, bytes: UInt64, within mask: NodeMask) -> NodeIndex? {
        let s = counts.majority
        var best: NodeIndex?
        for d in mask.indices(upTo: projected.count) where d != s {
            // Without per-thread attribution a move from a busier node to a
            // less busy one lowers locality (Σ pages × CPU): never that way.
            guard mask.contains(s) ? cpu[d] >= cpu[s] : true else { continue }
            guard GroupMigrationRule.allows(cpuDestination: cpu[d], cpuSource: cpu[s],
                                            memDestination: projected[d], memSource: projected[s]) else { continue }
            // Most CPU per byte already there first: the emptiest active node.
            if let b = best, cpu[d] * (projected[b] + 1) <= cpu[b] * (projected[d] + 1) { continue }
            best = d
        }
        guard let d = best else { return nil }
        let moved = max(1, Int(bytes >> 20) * counts.pages[s] / max(1, counts.total))
        projected[s] -= moved
        projected[d] += moved
        return d
    }
}
