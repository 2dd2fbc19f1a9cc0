import NUMAModel

/// A policy's pin, preferred or interleave turned into actions for one
/// observed process: pure, like the engine, so the daemon, `policy plan`
/// and the tests share it. What outside a process can be done is done:
///
/// - threads: `sched_setaffinity` to the CPUs of the directive's CPU nodes,
///   always inside the cgroup's effective cpuset;
/// - private memory: the process's existing pages move (move_pages on its
///   sampled ranges); its *future* private allocations cannot be steered
///   from outside (a memory policy belongs to the task that sets it);
/// - shared objects (SysV segments, shmem, memfd, MAP_SHARED|MAP_ANONYMOUS):
///   mbind on the object, existing pages moved, and later faults by every
///   process that maps it follow the object's policy.
///
/// Nodes without memory are never memory targets, nor nodes outside the
/// process's cpuset (Mems_allowed); nodes without CPUs are never affinity targets. When the observation already satisfies the directive
/// (affinity as wanted, at least 98 % of the sampled pages on the target
/// nodes; for interleave each node within ±5 percentage points of an even
/// share) the plan is empty, so the daemon never moves the same pages twice.
public enum DirectivePlanner {
    /// Interleave granularity: huge-page sized, as MPOL_INTERLEAVE spreads THP.
    public static let chunkBytes = InterleaveChunks.bytes
    /// Share of the sampled pages on the target nodes at which memory is left alone.
    public static let satisfiedShare = 0.98
    /// How far from an even share a node may be before interleave re-spreads.
    public static let evenTolerance = 0.05

    public static func plan(_ directive: PolicyDirective, observation: Observation, topology: Topology,
                            policyName: String, migrate: Bool, sharedObjects: Bool) -> [Action] {
        Planner(directive: directive, o: observation, topology: topology, policyName: policyName,
                migrate: migrate).actions(sharedObjects: sharedObjects)
    }

    /// The plans of one round's processes with each shared object's policy
    /// set once: every member of a segment plans the same mbind from a
    /// sample taken before any of them acted, and the second would walk the
    /// whole object again to move nothing.
    public static func oncePerObject(_ actions: [Action]) -> [Action] {
        var seen: Set<String> = []
        return actions.filter { action in
            guard case .setObjectPolicy(let set) = action else { return true }
            return seen.insert(set.objectKey).inserted
        }
    }
}

/// One process under one directive.
private struct Planner {
    let directive: PolicyDirective
    let o: Observation
    let topology: Topology
    let policyName: String
    /// Whether existing pages may move at all (`memory.migrate`).
    let migrate: Bool
    /// Memory targets (nodes with memory) and CPU targets (nodes with CPUs), in the directive's order.
    let memoryNodes: [NodeID]
    let cpuNodes: [NodeID]
    /// The cgroup's limit, or the machine.
    let limit: CPUSet
    /// Sampled resident share of the eligible memory (sparse heaps reserve more than they touch).
    let residentFraction: Double

    init(directive: PolicyDirective, o: Observation, topology: Topology, policyName: String, migrate: Bool) {
        self.directive = directive
        self.migrate = migrate
        self.o = o
        self.topology = topology
        self.policyName = policyName
        // Never outside the process's cpuset (Mems_allowed): move_pages refuses those nodes.
        let mems = Set(o.allowedNodes)
        memoryNodes = unique(directive.memoryNodes).filter {
            topology.node($0)?.hasMemory == true && (mems.isEmpty || mems.contains($0))
        }
        cpuNodes = unique(directive.cpuNodes).filter { topology.node($0)?.hasCPUs == true }
        limit = o.cpusetCPUs ?? topology.allCPUs
        residentFraction = o.residentFraction ?? 1
    }

    var rule: PlacementRule {
        switch directive {
        case .pin: .policyPin
        case .preferred: .policyPreferred
        case .interleave: .policyInterleave
        }
    }

    var isInterleave: Bool { if case .interleave = directive { true } else { false } }

    /// "policy latency-pin pins it to node 0", the start of every summary.
    var headline: String {
        switch directive {
        case .pin(let cpu, let memory):
            let same = Set(cpu) == Set(memory)
            return same ? "policy \(policyName) pins it to \(nodeText(memory))"
                : "policy \(policyName) pins it to \(nodeText(memory)) (threads on \(nodeText(cpu)))"
        case .preferred(let nodes): return "policy \(policyName) prefers \(nodeText(nodes)) for it"
        case .interleave(let nodes): return "policy \(policyName) interleaves it over \(nodeText(nodes))"
        }
    }

    func actions(sharedObjects: Bool) -> [Action] {
        let (affinity, note) = affinityAction()
        var objects: [Action] = []
        var moves: [Action] = []
        // migrate: false leaves every existing page where it is: no move, and
        // no object policy either (setting it again each round, to move
        // nothing, would never settle).
        if migrate, !memoryNodes.isEmpty {
            moves = privateMoves(note: note)
            if sharedObjects { objects = objectPolicies(note: note) }
        }
        // Cheap first: threads, then shared objects, then private pages (Plan's order).
        return (affinity.map { [$0] } ?? []) + objects + moves
    }

    // MARK: threads

    /// The CPUs the directive wants the threads on, inside the cgroup.
    var targetCPUs: CPUSet {
        cpuNodes.compactMap(topology.node).reduce(CPUSet()) { $0.union($1.cpus) }.intersection(limit)
    }

    /// The affinity action, if one is due, and otherwise a note for the
    /// memory actions' reasons when the threads cannot go where asked.
    func affinityAction() -> (Action?, String?) {
        let wanted = unique(directive.cpuNodes)
        if cpuNodes.isEmpty {
            let note = wanted.isEmpty ? nil
                : "\(nodeText(wanted)) \(wanted.count == 1 ? "has" : "have") no CPUs (memory only): the threads stay where they run"
            return (nil, note)
        }
        let cpus = targetCPUs
        guard !cpus.isEmpty else {
            return (nil, "the cgroup's cpuset (CPUs \(limit)) holds none of \(nodeText(cpuNodes))'s CPUs: "
                + "affinity left alone")
        }
        let due: Bool
        let summary: String
        switch directive {
        case .pin:
            due = cpus != o.allowedCPUs
            summary = "\(headline): threads on CPUs \(cpus)"
        case .preferred:
            due = cpus != o.allowedCPUs
            summary = "\(headline): threads on its CPUs \(cpus)"
        case .interleave:
            // Widened when the threads may not reach every node the memory is spread over.
            due = !cpus.isSubset(of: o.allowedCPUs)
            summary = "\(headline): threads allowed on all of their CPUs \(cpus)"
        }
        guard due else { return (nil, nil) }
        let reason = Reason(rule: rule, summary: summary, destination: cpuNodes.count == 1 ? cpuNodes[0] : nil,
                            comparisons: [Comparison("CPUs before", Double(o.allowedCPUs.count)),
                                          Comparison("CPUs after", Double(cpus.count))],
                            localityBefore: o.locality, expectedLocality: expectedLocality(threadsMove: true))
        return (.setAffinity(SetAffinity(process: o.identity, cpus: cpus, nodes: cpuNodes, reason: reason)), nil)
    }

    // MARK: private memory

    var privateRanges: [RangePlacement] { o.ranges.filter { $0.sharedObject == nil } }

    /// Sampled private pages per node (the whole sample when no ranges were kept).
    var privatePages: [NodeID: Int] {
        guard !o.ranges.isEmpty else { return o.pages.pagesByNode }
        var pages: [NodeID: Int] = [:]
        for range in privateRanges {
            for (node, count) in range.pagesByNode { pages[node, default: 0] += count }
        }
        return pages
    }

    /// Whether pages with these counts already satisfy the directive.
    func satisfied(_ pages: [NodeID: Int]) -> Bool {
        let total = pages.values.reduce(0, +)
        guard total > 0 else { return true }
        let on = memoryNodes.reduce(0) { $0 + (pages[$1] ?? 0) }
        guard Double(on) >= DirectivePlanner.satisfiedShare * Double(total) else { return false }
        guard isInterleave, memoryNodes.count > 1 else { return true }
        let even = 1 / Double(memoryNodes.count)
        return memoryNodes.allSatisfy { abs(Double(pages[$0] ?? 0) / Double(total) - even) <= DirectivePlanner.evenTolerance }
    }

    func privateMoves(note: String?) -> [Action] {
        let pages = privatePages
        guard !satisfied(pages) else { return [] }
        let total = pages.values.reduce(0, +)
        let onShare = Double(memoryNodes.reduce(0) { $0 + (pages[$1] ?? 0) }) / Double(total)
        if o.ranges.isEmpty { return wholeProcessMove(pages: pages, onShare: onShare, note: note) }
        let moves: [(node: NodeID, ranges: [AddressRange], bytes: UInt64)]
        if memoryNodes.count == 1 {
            let target = memoryNodes[0]
            let away = privateRanges.filter { share(of: target, in: $0.pagesByNode) < 1 && $0.pagesByNode.values.contains { $0 > 0 } }
            let bytes = away.reduce(0.0) { $0 + Double($1.residentBytes) * (1 - share(of: target, in: $1.pagesByNode)) }
            moves = away.isEmpty ? [] : [(target, away.map(\.addressRange),
                                          UInt64(bytes))]
        } else {
            // Interleave spreads every private range; pin and preferred over
            // several nodes spread only the ranges with pages off them.
            let ranges = isInterleave ? privateRanges : privateRanges.filter { range in
                range.pagesByNode.contains { !memoryNodes.contains($0.key) && $0.value > 0 }
            }
            moves = chunked(ranges)
        }
        let summary = isInterleave
            ? "\(headline): its existing private pages spread evenly in 2 MiB chunks (its future allocations cannot be steered from outside)"
            : "\(headline): its private pages on other nodes move there"
        // A chunk list whose pages the sample saw all on their node moves nothing.
        return moves.filter { !$0.ranges.isEmpty && $0.bytes > 0 }.map { move in
            let reason = memoryReason(summary, note: note, destination: move.node, bytes: move.bytes,
                                      comparisons: [Comparison("share on nodes", onShare),
                                                    Comparison("ranges", Double(move.ranges.count))])
            return .moveRanges(MoveRanges(process: o.identity, ranges: move.ranges, to: move.node, bytes: move.bytes,
                                          reason: reason))
        }
    }

    /// Chunk k (2 MiB, aligned) of the ranges to memory node k mod n, the way
    /// MPOL_INTERLEAVE places pages; bytes are those not already on their node.
    func chunked(_ ranges: [RangePlacement]) -> [(node: NodeID, ranges: [AddressRange], bytes: UInt64)] {
        let n = memoryNodes.count
        var lists = [[AddressRange]](repeating: [], count: n)
        var bytes = [Double](repeating: 0, count: n)
        var k = 0
        for range in ranges {
            // A range the sample missed is estimated from the whole process.
            let sampled = range.pagesByNode.values.contains { $0 > 0 }
            let counts = sampled ? range.pagesByNode : o.pages.pagesByNode
            let resident = sampled ? range.residentFraction : residentFraction
            k = InterleaveChunks.forEach(start: range.start, end: range.end, turn: k, slots: n) { start, end, slot in
                let node = memoryNodes[slot]
                if let last = lists[slot].last, last.end == start, last.pageBytes == range.pageBytes {
                    lists[slot][lists[slot].count - 1].end = end
                } else {
                    lists[slot].append(AddressRange(start: start, end: end, pageBytes: range.pageBytes))
                }
                bytes[slot] += Double(end - start) * resident * (1 - share(of: node, in: counts))
            }
        }
        return (0..<n).map { (memoryNodes[$0], lists[$0], UInt64(bytes[$0])) }
    }

    /// No ranges in the observation: everything off the node moves (migrate_pages), one node only.
    func wholeProcessMove(pages: [NodeID: Int], onShare: Double, note: String?) -> [Action] {
        guard memoryNodes.count == 1 || !isInterleave else { return [] }
        let target = memoryNodes[0]
        let from = pages.filter { $0.key != target && $0.value > 0 }.keys.sorted()
        guard !from.isEmpty else { return [] }
        let resident = Double(o.eligibleBytes) * residentFraction
        let bytes = UInt64(resident * (1 - share(of: target, in: pages)))
        let reason = memoryReason("\(headline): its pages on other nodes move there", note: note,
                                  destination: target, bytes: bytes,
                                  comparisons: [Comparison("share on nodes", onShare)])
        return [.movePages(MovePages(process: o.identity, from: from, to: target, bytes: bytes, reason: reason))]
    }

    // MARK: shared objects

    func objectPolicies(note: String?) -> [Action] {
        o.sharedObjects.sorted { $0.key < $1.key }.compactMap { object in
            let ranges = o.ranges.filter { $0.sharedObject == object.key }
            var pages: [NodeID: Int] = [:]
            for range in ranges { for (node, count) in range.pagesByNode { pages[node, default: 0] += count } }
            let total = pages.values.reduce(0, +)
            guard total > 0, !satisfied(pages) else { return nil }
            let size = Double(ranges.reduce(UInt64(0)) { $0 + $1.bytes })
            let policy: ObjectPolicy
            let nodes: [NodeID]
            let moved: Double
            let how: String
            if isInterleave, memoryNodes.count > 1 {
                policy = .interleave
                nodes = memoryNodes
                // A page stays when its interleave node is the one it is on.
                moved = 1 - memoryNodes.reduce(0.0) { $0 + share(of: $1, in: pages) } / Double(memoryNodes.count)
                how = "MPOL_INTERLEAVE over \(nodeText(nodes))"
            } else {
                // MPOL_PREFERRED, not MPOL_BIND, for objects (DESIGN.md): a
                // full node then spills instead of OOM-killing every process
                // that maps the object. Over several nodes the object prefers
                // the first; the others still take it when that one is full.
                policy = .preferred
                nodes = [memoryNodes[0]]
                moved = 1 - share(of: memoryNodes[0], in: pages)
                how = "MPOL_PREFERRED on node \(memoryNodes[0])"
            }
            let bytes = UInt64(size * moved)
            let summary = "\(headline): shared memory \(object.path) (\(object.key)) gets \(how), existing pages moved "
                + "(MPOL_MF_MOVE_ALL); later faults by every process that maps it follow"
            let onShare = Double(memoryNodes.reduce(0) { $0 + (pages[$1] ?? 0) }) / Double(total)
            let reason = memoryReason(summary, note: note, destination: nodes.count == 1 ? nodes[0] : nil,
                                      bytes: bytes, comparisons: [Comparison("share on nodes", onShare)])
            return .setObjectPolicy(SetObjectPolicy(
                objectKey: object.key, via: o.identity, ranges: ranges.map(\.addressRange),
                policy: policy, nodes: nodes, moveExisting: true, bytes: bytes, reason: reason))
        }
    }

    // MARK: reasons

    func memoryReason(_ summary: String, note: String?, destination: NodeID?, bytes: UInt64,
                      comparisons: [Comparison]) -> Reason {
        Reason(rule: rule, summary: note.map { "\(summary); \($0)" } ?? summary, destination: destination,
               comparisons: comparisons, localityBefore: o.locality,
               expectedLocality: expectedLocality(threadsMove: affinityAction().0 != nil), bytes: bytes)
    }

    /// Locality once the directive is carried out: pages where it sends
    /// them, threads spread over their target nodes by CPU count if they
    /// move, else where they ran.
    func expectedLocality(threadsMove: Bool) -> Double? {
        var pages = o.pages.shares
        if migrate, !memoryNodes.isEmpty, !satisfied(o.pages.pagesByNode) {
            if isInterleave {
                pages = Dictionary(uniqueKeysWithValues: memoryNodes.map { ($0, 1 / Double(memoryNodes.count)) })
            } else {
                let off = pages.filter { !memoryNodes.contains($0.key) }.values.reduce(0, +)
                pages = pages.filter { memoryNodes.contains($0.key) }
                for node in memoryNodes { pages[node, default: 0] += off / Double(memoryNodes.count) }
            }
        }
        var cpu = o.cpuShares
        let cpus = targetCPUs
        if threadsMove, !cpus.isEmpty {
            var byNode: [NodeID: Double] = [:]
            for node in cpuNodes {
                let count = topology.node(node)?.cpus.intersection(cpus).count ?? 0
                if count > 0 { byNode[node] = Double(count) / Double(cpus.count) }
            }
            cpu = byNode
        }
        return Locality.of(pageShares: pages, cpuShares: cpu)
    }

    func share(of node: NodeID, in pages: [NodeID: Int]) -> Double {
        let total = pages.values.reduce(0, +)
        return total > 0 ? Double(pages[node] ?? 0) / Double(total) : 0
    }
}

/// "node 0", "nodes 0,1".
private func nodeText(_ nodes: [NodeID]) -> String {
    let ids = unique(nodes).sorted()
    return ids.count == 1 ? "node \(ids[0])" : "nodes " + ids.map(\.description).joined(separator: ",")
}

private func unique(_ nodes: [NodeID]) -> [NodeID] {
    var seen = Set<NodeID>()
    return nodes.filter { seen.insert($0).inserted }
}
