import NUMAModel

/// Groups of cooperating processes (the kernel's numa_group), formed each
/// round from what ties them: the same shared object (SysV shm id, shmem
/// inode, memfd, MAP_SHARED|MAP_ANONYMOUS), the same policy group hint, the
/// same numa_group id from the kernel. The smaller group joins the larger
/// (union by size; on a tie the lower pid leads), so a group's leader, and
/// the group's remembered preferred node, stay with the larger part.
struct UnionFind {
    private(set) var parent: [Int]
    private(set) var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = Array(repeating: 1, count: count)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        guard ra != rb else { return }
        if size[ra] < size[rb] || (size[ra] == size[rb] && rb < ra) { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}

/// Placement units: a group, or a process on its own. Everything the task
/// placement needs per unit, in flat per-node rows.
struct UnitTable {
    let nodeCount: Int
    private(set) var unitOf: Rows<ProcessIndex, UnitIndex> = Rows([])
    /// Members of unit u: `members[memberStart[u]..<memberStart[u + 1]]`.
    private var memberStart: [Int] = [0]
    private var members: [ProcessIndex] = []
    /// The root of each unit's union: the member the larger part joined under.
    private var leaders: Rows<UnitIndex, ProcessIndex> = Rows([])
    /// Decayed memory and CPU faults (the group's sums for a group).
    private(set) var mem: NodeRows<UnitIndex, Int>
    private(set) var cpu: NodeRows<UnitIndex, Int>
    private(set) var load: NodeRows<UnitIndex, Int>
    private(set) var bytes: NodeRows<UnitIndex, UInt64>
    private(set) var totalLoad: Rows<UnitIndex, Int> = Rows([])
    private(set) var locality: Rows<UnitIndex, Double?> = Rows([])
    private(set) var threadNodes: Rows<UnitIndex, NodeMask> = Rows([])
    private(set) var memoryNodes: Rows<UnitIndex, NodeMask> = Rows([])
    /// Nodes of the user's pins of its members (empty: no pin).
    private(set) var pinnedNodes: Rows<UnitIndex, NodeMask> = Rows([])
    /// Keys of the shared objects the unit's members map, for groups.
    private(set) var objectKeys: [UnitIndex: [String]] = [:] {
        didSet { groupObjects = Set(objectKeys.values.joined()) }
    }
    /// Every group's objects: placed by their group, never as one process's pages.
    private(set) var groupObjects: Set<String> = []

    var count: Int { memberStart.count - 1 }
    var all: IndexRange<UnitIndex> { IndexRange(count: count) }

    init(input: RoundInput, decayed: DecayedRows) {
        let n = input.nodeCount
        nodeCount = n
        if input.groupable.isEmpty {
            // Nothing ties any two processes: every process is its own unit,
            // and the units' rows are the processes' rows, shared, not copied.
            let rows = Array(input.processes)
            unitOf = Rows(rows.map { UnitIndex($0.row) })
            members = rows
            leaders = Rows(rows)
            memberStart = Array(0...input.count)
            mem = NodeRows(flat: decayed.mem.values, nodeCount: n)
            cpu = NodeRows(flat: decayed.cpu.values, nodeCount: n)
            load = NodeRows(flat: input.load.values, nodeCount: n)
            bytes = NodeRows(flat: input.bytes.values, nodeCount: n)
            totalLoad = Rows(input.totalLoad.values)
            locality = Rows(input.locality.values)
            threadNodes = Rows(input.threadNodes.values)
            memoryNodes = Rows(input.memoryNodes.values)
            pinnedNodes = Rows(zip(input.userPinned.values, input.affinityNodes.values).map { $0 ? $1 : NodeMask() })
            return
        }
        var forest = UnionFind(count: input.count)
        Self.join(input: input, forest: &forest)
        var unitOfRoot: [UnitIndex?] = Array(repeating: nil, count: input.count)
        var units = 0
        var unitOf = Rows<ProcessIndex, UnitIndex>(repeating: UnitIndex(0), count: input.count)
        var leaders: [ProcessIndex] = []
        for p in input.processes {
            let root = forest.find(p.row)
            let unit = unitOfRoot[root] ?? UnitIndex(units)
            if unitOfRoot[root] == nil {
                unitOfRoot[root] = unit
                leaders.append(ProcessIndex(root))
                units += 1
            }
            unitOf[p] = unit
        }
        self.unitOf = unitOf
        self.leaders = Rows(leaders)
        // Members grouped by unit, each unit's members in identity order.
        var counts = Array(repeating: 0, count: units)
        for u in unitOf.values { counts[u.row] += 1 }
        memberStart = [0]
        for c in counts { memberStart.append((memberStart.last ?? 0) + c) }
        var cursor = Array(memberStart.dropLast())
        members = Array(repeating: ProcessIndex(0), count: input.count)
        for p in input.processes {
            members[cursor[unitOf[p].row]] = p
            cursor[unitOf[p].row] += 1
        }
        mem = NodeRows(repeating: 0, rows: units, nodeCount: n)
        cpu = mem
        load = mem
        bytes = NodeRows(repeating: 0, rows: units, nodeCount: n)
        aggregate(input: input, decayed: decayed)
    }

    private static func join(input: RoundInput, forest: inout UnionFind) {
        var byObject: [String: ProcessIndex] = [:]
        var byHint: [String: ProcessIndex] = [:]
        var byKernelGroup: [UInt64: ProcessIndex] = [:]
        let all = input.observations
        for p in input.groupable {
            let index = input.order[p]
            // Tied through an object only while it accesses it, as the kernel
            // forms numa_group from shared faults: a supervisor or postmaster
            // that keeps every segment attached and idle ties nobody.
            // And only with processes of the same user (security review
            // 4.7): who can map another user's /dev/shm file must not pull
            // that user's threads and memory about by joining their group.
            if Self.accessesObjects(p, input: input) {
                let user = all[index].uid.map { "\u{1F}uid \($0)" } ?? ""
                for object in all[index].sharedObjects { link(object.key + user, p, &byObject, &forest) }
                for range in all[index].ranges {
                    if let key = range.sharedObject { link(key + user, p, &byObject, &forest) }
                }
            }
            if let hint = all[index].groupHint { link(hint, p, &byHint, &forest) }
            if let group = all[index].kernelFaults?.groupID { link(group, p, &byKernelGroup, &forest) }
        }
    }

    /// Its CPU time this round says it accesses memory, in either mode. Not
    /// the kernel's shared faults: they are per task, not per object, and
    /// members that each work on their own part of a segment, or that the
    /// kernel already grouped, fault privately (in the lab's hybrid guest
    /// such a group never formed and its segment stayed remote).
    static func accessesObjects(_ p: ProcessIndex, input: RoundInput) -> Bool {
        Capacity.sharesObjects(load: input.totalLoad[p])
    }

    private static func link<K: Hashable>(_ key: K, _ p: ProcessIndex, _ seen: inout [K: ProcessIndex],
                                          _ forest: inout UnionFind) {
        if let first = seen[key] { forest.union(first.row, p.row) } else { seen[key] = p }
    }

    private mutating func aggregate(input: RoundInput, decayed: DecayedRows) {
        let n = nodeCount
        totalLoad.reserveCapacity(count)
        locality.reserveCapacity(count)
        threadNodes.reserveCapacity(count)
        memoryNodes.reserveCapacity(count)
        pinnedNodes.reserveCapacity(count)
        for u in all {
            let unitMembers = members(of: u)
            if unitMembers.count == 1, let p = unitMembers.first {
                aggregateSingle(u, p: p, input: input, decayed: decayed)
                continue
            }
            var threads = NodeMask(all: n)
            var memory = NodeMask(all: n)
            var pins = NodeMask()
            var unitLoad = 0
            var weighted = 0.0, weight = 0.0
            var keys: [String] = []
            for p in unitMembers {
                for k in mem.nodes {
                    mem[u, k] += decayed.mem[p, k]
                    cpu[u, k] += decayed.cpu[p, k]
                    load[u, k] += input.load[p, k]
                    bytes[u, k] += input.bytes[p, k]
                }
                unitLoad += input.totalLoad[p]
                threads = threads.intersection(input.threadNodes[p])
                memory = memory.intersection(input.memoryNodes[p])
                if input.userPinned[p] { pins.formUnion(input.affinityNodes[p]) }
                if let l = input.locality[p] {
                    let w = Double(max(1, input.totalLoad[p]))
                    weighted += l * w
                    weight += w
                }
                // Only the objects its accessing members use are the group's.
                guard Self.accessesObjects(p, input: input) else { continue }
                for range in input.ranges(p) {
                    if let key = range.sharedObject, !keys.contains(key) { keys.append(key) }
                }
            }
            totalLoad.append(unitLoad)
            locality.append(weight > 0 ? weighted / weight : nil)
            threadNodes.append(threads)
            memoryNodes.append(memory)
            pinnedNodes.append(pins)
            if !keys.isEmpty { objectKeys[u] = keys.sorted() }
        }
        leaveContestedObjects()
    }

    /// An object that two groups map (two users' processes, which never
    /// group together) gets its policy from neither: their wishes would take
    /// turns. It stays a group object, so no member moves it as its own pages.
    private mutating func leaveContestedObjects() {
        var holders: [String: Int] = [:]
        for keys in objectKeys.values { for key in keys { holders[key, default: 0] += 1 } }
        let contested = Set(holders.filter { $0.value > 1 }.keys)
        guard !contested.isEmpty else { return }
        let mapped = groupObjects
        for (u, keys) in objectKeys {
            let kept = keys.filter { !contested.contains($0) }
            objectKeys[u] = kept.isEmpty ? nil : kept
        }
        groupObjects = mapped
    }

    /// A process on its own: its rows as they are.
    private mutating func aggregateSingle(_ u: UnitIndex, p: ProcessIndex, input: RoundInput, decayed: DecayedRows) {
        for k in mem.nodes {
            mem[u, k] = decayed.mem[p, k]
            cpu[u, k] = decayed.cpu[p, k]
            load[u, k] = input.load[p, k]
            bytes[u, k] = input.bytes[p, k]
        }
        totalLoad.append(input.totalLoad[p])
        locality.append(input.locality[p])
        threadNodes.append(input.threadNodes[p])
        memoryNodes.append(input.memoryNodes[p])
        pinnedNodes.append(input.userPinned[p] ? input.affinityNodes[p] : NodeMask())
    }

    /// The unit's processes, in identity order.
    func members(of u: UnitIndex) -> ArraySlice<ProcessIndex> { members[memberStart[u.row]..<memberStart[u.row + 1]] }
    func isGroup(_ u: UnitIndex) -> Bool { memberStart[u.row + 1] - memberStart[u.row] > 1 }
    func leader(_ u: UnitIndex) -> ProcessIndex { leaders[u] }
    func isPinned(_ u: UnitIndex) -> Bool { !pinnedNodes[u].isEmpty }

    func cpuRow(_ u: UnitIndex) -> [Int] { Array(cpu.row(u)) }
    func load(_ u: UnitIndex, _ k: NodeIndex) -> Int { load[u, k] }
    func bytes(_ u: UnitIndex, _ k: NodeIndex) -> UInt64 { bytes[u, k] }
    func mem(_ u: UnitIndex, _ k: NodeIndex) -> Int { mem[u, k] }
    func cpu(_ u: UnitIndex, _ k: NodeIndex) -> Int { cpu[u, k] }

    func totalBytes(_ u: UnitIndex) -> UInt64 { bytes.total(u) }

    /// task_weight / group_weight: the node's share of the unit's memory
    /// faults, × 1000.
    func weight(_ u: UnitIndex, _ k: NodeIndex) -> Int {
        let total = mem.total(u)
        guard total > 0 else { return 0 }
        return KernelConstants.weightScale * mem[u, k] / total
    }

    /// The node holding at least `share` of the unit's runnable load, if any.
    func settledNode(_ u: UnitIndex, share: Double) -> NodeIndex? {
        let total = totalLoad[u]
        guard total > 0 else { return nil }
        for k in load.nodes where Double(load[u, k]) >= Double(total) * share { return k }
        return nil
    }
}
