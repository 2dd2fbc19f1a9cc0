import NUMAModel

/// Memory follows CPU: page ranges of each unit move to where its threads
/// run (or are sent), through the two-stage filter, within the node's
/// reserve and the MB/s budget; in hybrid mode private pages are left to the
/// kernel. Units are served most misplaced first, so the budget goes where
/// it buys most locality.
extension PlacementRound {
    mutating func placeMemory() {
        for u in memoryOrder() {
            let target = memoryTarget(u)
            guard target != .none else { continue }
            if let keys = units.objectKeys[u] {
                for key in keys { placeObject(key, unit: u, target: target) }
            }
            for p in units.members(of: u) {
                placePrivate(p, unit: u, target: units.isGroup(u) ? privateTarget(p, unit: u, unitTarget: target) : target)
            }
        }
    }

    /// Units with memory off their target, by misplaced bytes, then pid.
    private func memoryOrder() -> [UnitIndex] {
        var wanting: [(unit: UnitIndex, remote: Double)] = []
        for u in units.all where Capacity.accesses(load: units.totalLoad[u]) {
            let total = units.totalBytes(u)
            // Memory already where the threads are sent: nothing to look at
            // (the filter's views need no clearing: they count only when seen
            // in the observation just before).
            if let k = target[u], units.objectKeys[u] == nil,
               Double(total - units.bytes(u, k)) < Double(total) * config.minRemoteShare / 2 { continue }
            let remote = 1 - (units.locality[u] ?? 1)
            // A unit given a set of nodes is placed by its even layout, not by
            // one look's locality (its threads caught on one node of the set
            // read as all local, and the filter's views started again).
            // (Last: ownNodes walks the unit's members.)
            if remote > 0.001 || target[u] != nil || units.objectKeys[u] != nil
                || targetNodes[u] != nil || ownNodes(u) != nil {
                wanting.append((u, remote * Double(total)))
            }
        }
        return wanting.sorted { $0.remote != $1.remote ? $0.remote > $1.remote : $0.unit < $1.unit }.map(\.unit)
    }

    /// Whether p's move of the range is its own to make: its private pages,
    /// and the objects it alone works on. A group's objects follow the group;
    /// a process that does not work on what it maps (a supervisor) moves none.
    func ownsRange(_ range: RangePlacement, of p: ProcessIndex, isGroup: Bool) -> Bool {
        guard let key = range.sharedObject else { return true }
        return !isGroup && !units.groupObjects.contains(key) && UnitTable.accessesObjects(p, input: input)
    }

    /// Where a group member's private pages go: after its own threads, as the
    /// kernel always lets private faults migrate. The group's decision moves
    /// its shared objects; a member's own pin, or its threads on a node the
    /// group spans, keep its private memory with it.
    func privateTarget(_ p: ProcessIndex, unit u: UnitIndex, unitTarget: MemoryTarget) -> MemoryTarget {
        if case .even = unitTarget { return unitTarget }  // threads spread over the set: memory evenly too
        let memory = input.memoryNodes[p].intersection(nodes.memoryNodes)
        // Where its threads run this round (most of its load), within its pin if it has one.
        var best: NodeIndex?, bestLoad = 0, total = 0
        for k in nodes.all {
            let load = input.load[p, k]
            total += load
            if load > bestLoad, memory.contains(k) { best = k; bestLoad = load }
        }
        let settled = Double(bestLoad) >= Double(total) * config.settledLoadShare ? best : nil
        if input.userPinned[p] {
            let pins = input.affinityNodes[p].intersection(memory).indices(upTo: nodes.count)
            if pins.count == 1 { return .node(pins[0]) }
            guard let settled, pins.contains(settled) else { return .none }
            return .node(settled)
        }
        // Moved with its group this round: its threads go to the group's node.
        if let k = target[u], movable[u] { return .node(k) }
        guard let settled else { return .none }
        return .node(settled)
    }

    /// Private ranges of process p (and, for a process alone, the shared
    /// objects only it maps).
    private mutating func placePrivate(_ p: ProcessIndex, unit u: UnitIndex, target: MemoryTarget) {
        if case .even(let mask) = target { return placeEvenly(p, unit: u, over: mask) }
        let observedRanges = input.ranges(p)
        let isGroup = units.isGroup(u)
        var plan = RangeMoves(nodeCount: nodes.count)
        var spread: SpreadProjection?
        if case .spread = target { spread = SpreadProjection(round: self, unit: u) }
        state[slot[p]].pruneRanges(keeping: observedRanges)
        for range in observedRanges where ownsRange(range, of: p, isGroup: isGroup) {
            let counts = RangeCounts(range, nodes: nodes)
            guard counts.total > 0 else { continue }
            let destination: NodeIndex?
            switch target {
            case .none: destination = nil
            case .node(let d):
                let accessed = isGroup ? input.threadMillis[p, d] > 0 || self.target[u] == d : accessesFrom(u, d)
                destination = counts.remoteShare(from: d) >= config.minRemoteShare && accessed ? d : nil
            case .spread(let mask): destination = spread?.destination(for: counts, bytes: range.residentBytes, within: mask)
            case .even: destination = nil
            }
            let (rangeSlot, passes) = state[slot[p]].view(rangeStart: range.start,
                                                          destination: destination.map(RangeDestination.node))
            guard let d = destination else { continue }
            // What the range holds off d, not what it reserves (a sparse heap).
            let bytes = UInt64(Double(range.residentBytes) * counts.remoteShare(from: d))
            guard bytes > 0 else { continue }  // nothing resident to move: no empty act
            if heldBack(bytes, passes: passes, range: rangeSlot, of: p, plan: &plan) { continue }
            guard units.memoryNodes[u].contains(d), reserve.allows(bytes, to: d) else { plan.reserve += bytes; continue }
            guard state.budget.spend(bytes) else { plan.budget += bytes; continue }
            _ = reserve.book(bytes, to: d)
            state[slot[p]].ranges[rangeSlot].movedAt = now
            plan.add(range: range.addressRange, bytes: bytes, to: d,
                     from: counts, nodes: nodes)
        }
        // migrate_pages moves every page on the source nodes: only right when
        // every range with a page away from d is in the move.
        var whole = false
        // (Not with hugetlb ranges: their pages are counted one move_pages entry per huge page.)
        if case .node(let d) = target, plan.moves.count == 1,
           observedRanges.allSatisfy({ $0.sharedObject == nil && $0.pageBytes == 0 }) {
            let away = observedRanges.filter { RangeCounts($0, nodes: nodes).remoteShare(from: d) > 0 }.count
            whole = away == plan.moves[0].ranges.count
        }
        emit(plan, for: p, unit: u, target: target, wholeProcess: whole)
    }

    /// A candidate range held back, and why: seen remote once only (the
    /// two-stage filter), hybrid mode (the kernel places private pages), or
    /// moved within the cool-down.
    private func heldBack(_ bytes: UInt64, passes: Bool, range rangeSlot: Int, of p: ProcessIndex,
                          plan: inout RangeMoves) -> Bool {
        plan.candidates += 1
        guard passes else { plan.waiting += bytes; return true }
        if config.mode == .hybrid { plan.kernel += bytes; return true }
        if MigrationFilter.recentlyMoved(state.processes[slot[p]].ranges[rangeSlot].movedAt, now: now,
                                         window: config.cooldownSeconds) {
            plan.pingPong += bytes
            return true
        }
        return false
    }

    private mutating func emit(_ plan: RangeMoves, for p: ProcessIndex, unit u: UnitIndex, target: MemoryTarget,
                               wholeProcess: Bool) {
        let spreading = switch target {
        case .spread, .even: true
        case .none, .node: false
        }
        let rule: PlacementRule = spreading ? .spreadOverActiveNodes : .memoryFollowsCPU
        if plan.waiting > 0 {
            postpone(p, rule: .twoStageFilter, summary: "seen remote once: moves if seen so again at the next observation", bytes: plan.waiting)
        }
        if plan.kernel > 0 {
            postpone(p, rule: .kernelPlacesPages, summary: "hybrid mode: private pages are left to the kernel's balancer", bytes: plan.kernel)
        }
        if plan.pingPong > 0 {
            postpone(p, rule: .noPingPong, summary: "moved within the cool-down: not moved again", bytes: plan.pingPong)
        }
        if plan.reserve > 0 {
            postpone(p, rule: .reserve, summary: "would take the node below its reserve (high watermark + margin)", bytes: plan.reserve)
        }
        if plan.budget > 0 {
            // Work in progress: sample again at scan_min, as the kernel's
            // scanner carries on where it stopped.
            budgetWaiting.insert(p)
            postpone(p, rule: .budget, summary: "over this round's migration budget", bytes: plan.budget,
                     comparisons: [Comparison("tokens", state.budget.tokens)])
        }
        guard !plan.moves.isEmpty else { return }
        let after = projectedLocality(p, unit: u, moved: plan.movedFrom, to: plan.moves.map(\.to))
        for move in plan.moves {
            let reason = Reason(
                rule: rule,
                summary: {
                    switch target {
                    case .even: "too big for one node: memory spread evenly (2 MiB chunks in turn) over the nodes its threads were given"
                    case .spread: "process spans nodes: memory spread over its active nodes by the 3/4 rule (bandwidth; locality not lowered)"
                    case .node, .none: "ranges remote in two consecutive observations, with accesses from the destination"
                    }
                }(),
                destination: nodes.ids[move.to],
                comparisons: [Comparison("ranges", Double(move.ranges.count)),
                              Comparison("budget tokens left", state.budget.tokens)],
                localityBefore: input.locality[p], expectedLocality: after, bytes: move.bytes,
                seconds: state.budget.seconds(for: move.bytes))
            if wholeProcess {
                // Every remote page of the process goes: one migrate_pages call.
                let from = nodes.all.filter { plan.movedFrom[0][$0] > 0 }.map { nodes.ids[$0] }
                memoryActions.append(.movePages(MovePages(process: identity(p), from: from, to: nodes.ids[move.to],
                                                          bytes: move.bytes, reason: reason)))
            } else {
                memoryActions.append(.moveRanges(MoveRanges(process: identity(p), ranges: move.ranges,
                                                            to: nodes.ids[move.to], bytes: move.bytes, reason: reason)))
            }
        }
        expectedLocality[p] = after
        markActed(p, expected: after)
    }

    /// Private ranges of p evenly over the unit's nodes: chunk i (2 MiB,
    /// aligned) of the process's ranges to node i mod n, as MPOL_INTERLEAVE
    /// would have placed them. A range moves when more of it than
    /// `minRemoteShare` lies off its even layout (a range of one chunk: off
    /// the nodes), seen so in two consecutive observations; the mover then
    /// moves only the pages not already on their chunk's node.
    private mutating func placeEvenly(_ p: ProcessIndex, unit u: UnitIndex, over mask: NodeMask) {
        let list = mask.indices(upTo: nodes.count)
        guard !list.isEmpty else { return }
        let isGroup = units.isGroup(u)
        var plan = RangeMoves(nodeCount: nodes.count)
        let evenly = RangeDestination(evenOver: mask)
        var turn = 0
        for range in input.ranges(p) where ownsRange(range, of: p, isGroup: isGroup) {
            let counts = RangeCounts(range, nodes: nodes)
            let chunks = InterleaveChunks.count(start: range.start, end: range.end)
            defer { turn += chunks }
            guard counts.total > 0 else { continue }
            let even = chunks >= list.count ? 1 / Double(list.count) : 0
            var off = 0.0
            for k in nodes.all {
                let share = Double(counts.pages[k]) / Double(counts.total)
                off += mask.contains(k) ? max(0, share - even) * (even > 0 ? 1 : 0) : share
            }
            let wanted = off >= config.minRemoteShare
            let (rangeSlot, passes) = state[slot[p]].view(rangeStart: range.start, destination: wanted ? evenly : nil)
            guard wanted else { continue }
            let bytes = UInt64(Double(range.residentBytes) * off)
            let resident = range.residentFraction
            guard bytes > 0 else { continue }
            if heldBack(bytes, passes: passes, range: rangeSlot, of: p, plan: &plan) { continue }
            let perNode = bytes / UInt64(list.count)
            guard list.allSatisfy({ reserve.allows(perNode, to: $0) }) else { plan.reserve += bytes; continue }
            guard state.budget.spend(bytes) else { plan.budget += bytes; continue }
            state[slot[p]].ranges[rangeSlot].movedAt = now
            InterleaveChunks.forEach(start: range.start, end: range.end, turn: turn, slots: list.count) { start, end, slot in
                let d = list[slot]
                // What of the chunk is not on d yet, as the range's sample says
                // (a range all on d: its chunks for d have nothing to move).
                let away = UInt64(Double(end - start) * resident * counts.remoteShare(from: d))
                if away > 0 {
                    _ = reserve.book(away, to: d)
                    plan.add(range: AddressRange(start: start, end: end, pageBytes: range.pageBytes), bytes: away, to: d,
                             from: counts, nodes: nodes)
                }
            }
        }
        emit(plan, for: p, unit: u, target: .even(mask), wholeProcess: false)
    }

    /// Locality of p once `moved` bytes (per source node) reach `to`, with
    /// its threads where this round sends them.
    func projectedLocality(_ p: ProcessIndex, unit u: UnitIndex, moved: [Rows<NodeIndex, UInt64>],
                           to destinations: [NodeIndex]) -> Double? {
        var bytes = Rows<NodeIndex, Double>(nodes.all.map { Double(input.bytes[p, $0]) })
        for (index, d) in destinations.enumerated() {
            for k in nodes.all {
                let amount = Double(moved[index][k])
                bytes[k] -= amount
                bytes[d] += amount
            }
        }
        // A range's size can exceed the sampled estimate of what its node
        // holds: clamp before taking shares, so that they stay within 0…1.
        bytes = Rows(bytes.values.map { max(0, $0) })
        let total = bytes.values.reduce(0, +)
        guard total > 0 else { return nil }
        if let k = target[u] { return bytes[k] / total }
        let cpuTotal = input.threadMillis.total(p)
        guard cpuTotal > 0 else { return nil }
        return nodes.all.reduce(0.0) { $0 + bytes[$1] / total * Double(input.threadMillis[p, $1]) }
            / Double(cpuTotal)
    }
}

/// Sampled pages of one range, by node position.
struct RangeCounts {
    var pages: Rows<NodeIndex, Int>
    var total: Int

    init(_ range: RangePlacement, nodes: NodeTable) {
        pages = Rows(repeating: 0, count: nodes.count)
        total = 0
        for (id, count) in range.pagesByNode {
            guard let k = nodes.position(of: id) else { continue }
            pages[k] += count
            total += count
        }
    }

    func remoteShare(from d: NodeIndex) -> Double {
        total > 0 ? Double(total - pages[d]) / Double(total) : 0
    }

    /// The node holding most of the range (lowest position on a tie).
    var majority: NodeIndex {
        pages.indices.max { a, b in pages[a] != pages[b] ? pages[a] < pages[b] : a > b } ?? NodeIndex(0)
    }
}

/// The moves planned for one process, grouped by destination, and what was held back.
struct RangeMoves {
    var moves: [(to: NodeIndex, ranges: [AddressRange], bytes: UInt64)] = []
    /// Per move, the bytes it takes from each node.
    var movedFrom: [Rows<NodeIndex, UInt64>] = []
    let nodeCount: Int
    var candidates = 0
    var waiting: UInt64 = 0, kernel: UInt64 = 0, pingPong: UInt64 = 0, reserve: UInt64 = 0, budget: UInt64 = 0

    init(nodeCount: Int) { self.nodeCount = nodeCount }

    mutating func add(range: AddressRange, bytes: UInt64, to d: NodeIndex, from counts: RangeCounts, nodes: NodeTable) {
        let index: Int
        if let existing = moves.firstIndex(where: { $0.to == d }) {
            index = existing
        } else {
            moves.append((d, [], 0))
            movedFrom.append(Rows(repeating: 0, count: nodeCount))
            index = moves.count - 1
        }
        moves[index].ranges.append(range)
        moves[index].bytes += bytes
        let remote = counts.total - counts.pages[d]
        guard remote > 0 else { return }
        // In doubles: bytes × pages can pass 2^64 for a huge range.
        for k in nodes.all where k != d {
            movedFrom[index][k] += UInt64(Double(bytes) * Double(counts.pages[k]) / Double(remote))
        }
    }
}
