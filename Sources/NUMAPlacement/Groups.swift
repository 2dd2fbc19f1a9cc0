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
/// placement needs per unit, in flat per-node rows (unit u, node k at
/// `u * nodeCount + k`).
struct UnitTable {
    let nodeCount: Int
    private(set) var unitOf: [Int] = []
    /// Members of unit u: `members[memberStart[u]..<memberStart[u + 1]]`.
    private(set) var memberStart: [Int] = [0]
    private(set) var members: [Int] = []
    /// The root of each unit's union: the member the larger part joined under.
    private(set) var leaders: [Int] = []
    /// Decayed memory and CPU faults (the group's sums for a group).
    private(set) var mem: [Int] = []
    private(set) var cpu: [Int] = []
    private(set) var load: [Int] = []
    private(set) var bytes: [UInt64] = []
    private(set) var totalLoad: [Int] = []
    private(set) var locality: [Double?] = []
    private(set) var threadNodes: [NodeMask] = []
    private(set) var memoryNodes: [NodeMask] = []
    /// Nodes of the user's pins of its members (empty: no pin).
    private(set) var pinnedNodes: [NodeMask] = []
    /// Keys of the shared objects the unit's members map, for groups.
    private(set) var objectKeys: [Int: [String]] = [:] {
        didSet { groupObjects = Set(objectKeys.values.joined()) }
    }
    /// Every group's objects: placed by their group, never as one process's pages.
    private(set) var groupObjects: Set<String> = []

    var count: Int { memberStart.count - 1 }

    init(input: RoundInput, decayed: DecayedRows) {
        nodeCount = input.nodeCount
        if input.groupable.isEmpty {
            // Nothing ties any two processes: every process is its own unit,
            // and the units' rows are the processes' rows, shared, not copied.
            unitOf = Array(0..<input.count)
            members = unitOf
            leaders = unitOf
            memberStart = Array(0...input.count)
            mem = decayed.mem
            cpu = decayed.cpu
            load = input.load
            bytes = input.bytes
            totalLoad = input.totalLoad
            locality = input.locality
            threadNodes = input.threadNodes
            memoryNodes = input.memoryNodes
            pinnedNodes = zip(input.userPinned, input.affinityNodes).map { $0 ? $1 : NodeMask() }
            return
        }
        var forest = UnionFind(count: input.count)
        Self.join(input: input, forest: &forest)
        var unitOfRoot = Array(repeating: -1, count: input.count)
        var units = 0
        unitOf = Array(repeating: 0, count: input.count)
        for p in 0..<input.count {
            let root = forest.find(p)
            if unitOfRoot[root] < 0 {
                unitOfRoot[root] = units
                leaders.append(root)
                units += 1
            }
            unitOf[p] = unitOfRoot[root]
        }
        // Members grouped by unit, each unit's members in identity order.
        var counts = Array(repeating: 0, count: units)
        for u in unitOf { counts[u] += 1 }
        memberStart = [0]
        for c in counts { memberStart.append((memberStart.last ?? 0) + c) }
        var cursor = Array(memberStart.dropLast())
        members = Array(repeating: 0, count: input.count)
        for p in 0..<input.count {
            members[cursor[unitOf[p]]] = p
            cursor[unitOf[p]] += 1
        }
        aggregate(input: input, decayed: decayed)
    }

    private static func join(input: RoundInput, forest: inout UnionFind) {
        var byObject: [String: Int] = [:]
        var byHint: [String: Int] = [:]
        var byKernelGroup: [UInt64: Int] = [:]
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
    static func accessesObjects(_ p: Int, input: RoundInput) -> Bool {
        Capacity.sharesObjects(load: input.totalLoad[p])
    }

    private static func link<K: Hashable>(_ key: K, _ p: Int, _ seen: inout [K: Int], _ forest: inout UnionFind) {
        if let first = seen[key] { forest.union(first, p) } else { seen[key] = p }
    }

    private mutating func aggregate(input: RoundInput, decayed: DecayedRows) {
        let n = nodeCount
        let size = count * n
        mem = Array(repeating: 0, count: size)
        cpu = Array(repeating: 0, count: mem.count)
        load = mem
        bytes = Array(repeating: 0, count: size)
        totalLoad.reserveCapacity(count)
        locality.reserveCapacity(count)
        threadNodes.reserveCapacity(count)
        memoryNodes.reserveCapacity(count)
        pinnedNodes.reserveCapacity(count)
        for u in 0..<count {
            let range = memberRange(u)
            if range.count == 1 {
                aggregateSingle(u, p: members[range.lowerBound], input: input, decayed: decayed)
                continue
            }
            var threads = NodeMask(all: n)
            var memory = NodeMask(all: n)
            var pins = NodeMask()
            var unitLoad = 0
            var weighted = 0.0, weight = 0.0
            var keys: [String] = []
            for i in range {
                let p = members[i]
                for k in 0..<n {
                    mem[u * n + k] += decayed.mem[p * n + k]
                    cpu[u * n + k] += decayed.cpu[p * n + k]
                    load[u * n + k] += input.load[p * n + k]
                    bytes[u * n + k] += input.bytes[p * n + k]
                }
                unitLoad += input.totalLoad[p]
                threads = threads.intersection(input.threadNodes[p])
                memory = memory.intersection(input.memoryNodes[p])
                if input.userPinned[p] {
                    pins.low |= input.affinityNodes[p].low
                    pins.high |= input.affinityNodes[p].high
                }
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
    private mutating func aggregateSingle(_ u: Int, p: Int, input: RoundInput, decayed: DecayedRows) {
        let n = nodeCount
        for k in 0..<n {
            mem[u * n + k] = decayed.mem[p * n + k]
            cpu[u * n + k] = decayed.cpu[p * n + k]
            load[u * n + k] = input.load[p * n + k]
            bytes[u * n + k] = input.bytes[p * n + k]
        }
        totalLoad.append(input.totalLoad[p])
        locality.append(input.locality[p])
        threadNodes.append(input.threadNodes[p])
        memoryNodes.append(input.memoryNodes[p])
        pinnedNodes.append(input.userPinned[p] ? input.affinityNodes[p] : NodeMask())
    }

    func memberRange(_ u: Int) -> Range<Int> { memberStart[u]..<memberStart[u + 1] }
    func isGroup(_ u: Int) -> Bool { memberRange(u).count > 1 }
    func leader(_ u: Int) -> Int { leaders[u] }
    func isPinned(_ u: Int) -> Bool { !pinnedNodes[u].isEmpty }

    func cpuRow(_ u: Int) -> [Int] { Array(cpu[(u * nodeCount)..<((u + 1) * nodeCount)]) }
    func load(_ u: Int, _ k: Int) -> Int { load[u * nodeCount + k] }
    func bytes(_ u: Int, _ k: Int) -> UInt64 { bytes[u * nodeCount + k] }
    func mem(_ u: Int, _ k: Int) -> Int { mem[u * nodeCount + k] }
    func cpu(_ u: Int, _ k: Int) -> Int { cpu[u * nodeCount + k] }

    func totalBytes(_ u: Int) -> UInt64 {
        var sum: UInt64 = 0
        for k in 0..<nodeCount { sum += bytes[u * nodeCount + k] }
        return sum
    }

    /// task_weight / group_weight: the node's share of the unit's memory
    /// faults, × 1000.
    func weight(_ u: Int, _ k: Int) -> Int {
        var total = 0
        for j in 0..<nodeCount { total += mem[u * nodeCount + j] }
        guard total > 0 else { return 0 }
        return KernelConstants.weightScale * mem[u * nodeCount + k] / total
    }

    /// The node holding at least `share` of the unit's runnable load, if any.
    func settledNode(_ u: Int, share: Double) -> Int? {
        let total = totalLoad[u]
        guard total > 0 else { return nil }
        for k in 0..<nodeCount where Double(load[u * nodeCount + k]) >= Double(total) * share { return k }
        return nil
    }
}
