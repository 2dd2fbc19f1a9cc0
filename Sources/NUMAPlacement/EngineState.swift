import NUMAModel

/// What the two-stage filter and the ping-pong guard remember of one page
/// range of a process (keyed by its start address).
public struct RangeMemory: Hashable, Sendable, Codable {
    public var start: UInt64
    /// The destination the range was last seen remote for, with accesses
    /// from it (nil: none), and in which observation of the process.
    public var candidate: RangeDestination?
    public var seenInObservation: UInt32
    /// When the engine last planned to move it (no range moves twice within
    /// the cool-down).
    public var movedAt: Double?

    init(start: UInt64) {
        self.start = start
        seenInObservation = 0
    }
}

/// The engine's memory of one process across rounds.
public struct ProcessState: Hashable, Sendable, Codable {
    public var identity: ProcessIdentity
    public var stats: FaultStats
    public var preferred: NodeIndex?
    public var scanPeriod: Double
    public var nextScan: Double
    public var lastSeen: Double
    /// How many times it was observed: the two-stage filter needs
    /// consecutive observations.
    public var observations: UInt32
    /// Runnable load at the last observation (milli-CPUs), so nodes are
    /// charged for processes not sampled this round: the node and total when
    /// it all ran on one node (nearly always), else per node.
    public private(set) var loadNode: NodeIndex?
    public private(set) var loadTotal: Int = 0
    public private(set) var loadByNode: [Int]?
    /// The affinity the engine set, and the node it placed the process on.
    public var engineAffinity: CPUSet?
    public var placedNode: NodeIndex?
    /// The nodes it was placed on when too big for one.
    public var placedNodes: [NodeIndex]?
    /// Someone else changed the affinity the engine set since its last action.
    public var affinityOverridden = false
    /// The last action on it: when, and the locality it expected right after.
    public var actedAt: Double?
    public var expectedLocality: Double?
    /// Page ranges, sorted by start.
    public var ranges: [RangeMemory]
    /// The node its threads ran on at the last scan (nil: none, or spread):
    /// a task that changes node starts its scan period again.
    public var scannedOn: NodeIndex?

    init(identity: ProcessIdentity, nodeCount: Int, scanPeriod: Double, now: Double) {
        self.identity = identity
        stats = FaultStats(nodeCount: nodeCount)
        self.scanPeriod = scanPeriod
        nextScan = now
        lastSeen = now
        observations = 0
        ranges = []
    }

    mutating func recordLoad(_ load: ArraySlice<Int>, total: Int) {
        loadTotal = total
        loadNode = nil
        if loadByNode != nil { loadByNode = nil }
        guard total > 0 else { return }
        for (k, value) in load.enumerated() where value == total {
            loadNode = NodeIndex(k)
            return
        }
        loadByNode = Array(load)
    }

    /// Its threads were just sent to node k: their load counts there from
    /// now on, for the plans that do not observe it again first.
    mutating func moveLoad(to k: NodeIndex) {
        guard loadTotal > 0 else { return }
        loadNode = k
        loadByNode = nil
    }

    /// Its threads were just sent to several nodes: `shares` (milli-CPUs per
    /// node position) count there from now on.
    mutating func moveLoad(shares: [Int]) {
        guard loadTotal > 0 else { return }
        loadNode = nil
        loadByNode = shares
    }

    /// Adds its last known load to per-node totals.
    func addLoad(to totals: inout Rows<NodeIndex, Int>) {
        if let node = loadNode, node.row < totals.count { totals[node] += loadTotal }
        if let spread = loadByNode {
            for k in totals.indices where k.row < spread.count { totals[k] += spread[k.row] }
        }
    }

    /// Index of the range starting at `start`, inserting it if new.
    mutating func rangeIndex(start: UInt64) -> Int {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].start == start { return mid }
            if ranges[mid].start < start { low = mid + 1 } else { high = mid }
        }
        ranges.insert(RangeMemory(start: start), at: low)
        return low
    }

    /// Whether the process is still in its cool-down at `now`.
    func coolingDown(now: Double, cooldown: Double, locality: Double?, sharpDrop: Double) -> Bool {
        guard let acted = actedAt, now - acted < cooldown else { return false }
        // A sharp fall below what the action promised ends the cool-down,
        // unless the action was undone by someone else: not ours to fight.
        if !affinityOverridden, let locality, let expected = expectedLocality, locality < expected - sharpDrop {
            return false
        }
        return true
    }

    /// Approximate bytes this state holds, for the engine's memory report.
    public var footprintBytes: Int {
        MemoryLayout<ProcessState>.stride
            + (stats.capacityInts + (loadByNode?.capacity ?? 0)) * MemoryLayout<Int>.stride
            + ranges.capacity * MemoryLayout<RangeMemory>.stride
            + (engineAffinity?.ids.capacity ?? 0) * MemoryLayout<Int>.stride
    }
}

/// The two-stage filter's and ping-pong guard's memory of a shared object.
public struct ObjectMemory: Hashable, Sendable, Codable {
    /// The destination nodes (positions) it was last seen remote for.
    var candidateLow: UInt64
    var candidateHigh: UInt64
    var seenAt: Double
    public var movedAt: Double?

    var candidate: NodeMask {
        var mask = NodeMask()
        mask.low = candidateLow
        mask.high = candidateHigh
        return mask
    }

    init(candidate: NodeMask, seenAt: Double, movedAt: Double? = nil) {
        candidateLow = candidate.low
        candidateHigh = candidate.high
        self.seenAt = seenAt
        self.movedAt = movedAt
    }
}

/// All the engine keeps between rounds: a value, so a copy is a snapshot.
public struct EngineState: Hashable, Sendable, Codable {
    public private(set) var processes: [ProcessState] = []
    private var index: [ProcessIdentity: Int] = [:]
    /// Preferred node of each group, by the identity of its leader.
    public var groupPreferred: [ProcessIdentity: NodeIndex] = [:]
    public var objects: [String: ObjectMemory] = [:]
    public var budget: MigrationBudget
    public var round: UInt32 = 0
    private var lastForget: Double?
    /// Last round's processes in identity order with their slots: this
    /// round's, in the same order, find theirs by a merge walk, not a hash.
    private var lastOrder: [ProcessIdentity] = []
    private var lastSlots: [Int] = []

    init(budget: MigrationBudget) {
        self.budget = budget
    }

    public func state(of identity: ProcessIdentity) -> ProcessState? {
        index[identity].map { processes[$0] }
    }

    func engineAffinity(of identity: ProcessIdentity) -> CPUSet? {
        index[identity].flatMap { processes[$0].engineAffinity }
    }

    /// The moves planned at `time` for `identity` were not made: its
    /// ranges are not cooling down from them.
    mutating func unmark(_ identity: ProcessIdentity, movedAt time: Double) {
        guard let s = index[identity] else { return }
        for r in processes[s].ranges.indices where processes[s].ranges[r].movedAt == time {
            processes[s].ranges[r].movedAt = nil
        }
    }

    /// Room for `count` more processes, so a first round does not regrow.
    mutating func reserve(_ count: Int) {
        // Only for a first sight of many: growing every round would copy all.
        if processes.capacity < count { processes.reserveCapacity(count) }
        if index.capacity < count { index.reserveCapacity(count) }
    }

    /// Slots of processes given in identity order, created where new.
    mutating func slots(for identities: [ProcessIdentity], nodeCount: Int, scanPeriod: Double,
                        now: Double) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(identities.count)
        var j = 0
        for identity in identities {
            while j < lastOrder.count, Self.less(lastOrder[j], identity) { j += 1 }
            if j < lastOrder.count, lastOrder[j] == identity, lastSlots[j] < processes.count,
               processes[lastSlots[j]].identity == identity {
                result.append(lastSlots[j])
            } else {
                result.append(slot(for: identity, nodeCount: nodeCount, scanPeriod: scanPeriod, now: now))
            }
        }
        lastOrder = identities
        lastSlots = result
        return result
    }

    static func less(_ a: ProcessIdentity, _ b: ProcessIdentity) -> Bool {
        (UInt32(bitPattern: a.pid), a.startTime) < (UInt32(bitPattern: b.pid), b.startTime)
    }

    /// Position of the process's state, created if new.
    mutating func slot(for identity: ProcessIdentity, nodeCount: Int, scanPeriod: Double,
                       now: Double) -> Int
    {
        if let existing = index[identity] { return existing }
        processes.append(ProcessState(identity: identity, nodeCount: nodeCount, scanPeriod: scanPeriod,
                                      now: now))
        index[identity] = processes.count - 1
        return processes.count - 1
    }

    subscript(slot: Int) -> ProcessState {
        // Read and modify in place: a plain getter would copy the whole state.
        _read { yield processes[slot] }
        _modify { yield &processes[slot] }
    }

    /// Forgets processes not seen for `age` seconds (they exited), and
    /// objects nobody evaluated for as long.
    /// Drops processes known to be gone (the daemon saw them exit), so
    /// their last load no longer fills a node.
    mutating func forget(_ gone: Set<ProcessIdentity>) {
        guard processes.contains(where: { gone.contains($0.identity) }) else { return }
        processes.removeAll { gone.contains($0.identity) }
        lastOrder = []
        lastSlots = []
        index = Dictionary(uniqueKeysWithValues: processes.enumerated().map { ($1.identity, $0) })
        let leaders = Set(processes.map(\.identity))
        groupPreferred = groupPreferred.filter { leaders.contains($0.key) }
    }

    mutating func forget(olderThan age: Double, now: Double) {
        // A sweep over every state each quarter of the age is enough.
        if let last = lastForget, now - last < age / 4, now >= last { return }
        lastForget = now
        guard processes.indices.contains(where: { now - processes[$0].lastSeen > age }) else { return }
        processes.removeAll { now - $0.lastSeen > age }
        lastOrder = []
        lastSlots = []
        index = Dictionary(uniqueKeysWithValues: processes.enumerated().map { ($1.identity, $0) })
        objects = objects.filter { now - $0.value.seenAt <= age }
        let leaders = Set(processes.map(\.identity))
        groupPreferred = groupPreferred.filter { leaders.contains($0.key) }
    }

    /// Bytes of state per process, and in all (for the benchmark's report).
    public var footprintBytes: Int {
        processes.reduce(0) { $0 + $1.footprintBytes }
            + index.capacity * (MemoryLayout<ProcessIdentity>.stride + MemoryLayout<Int>.stride)
    }
}

extension EngineState {
    /// Folds one observation into its process's state, in place, and writes
    /// the decayed rows the units are built from.
    mutating func update(slot: Int, from input: RoundInput, process p: ProcessIndex, now: Double,
                         decayed: inout DecayedRows) {
        let n = input.nodeCount
        if input.usesKernelFaults[p] {
            processes[slot].stats.replace(mem: input.pages.row(p), cpu: input.cpuMillis.row(p),
                                          sharedMem: input.sharedPages.values.isEmpty
                                              ? ArraySlice(repeating: 0, count: n) : input.sharedPages.row(p))
        } else {
            processes[slot].stats.accumulate(mem: input.pages.values, cpu: input.cpuMillis.values,
                                             sharedMem: input.sharedPages.values, base: input.pages.base(p), count: n)
        }
        processes[slot].observations &+= 1
        processes[slot].lastSeen = now
        processes[slot].recordLoad(input.load.row(p), total: input.totalLoad[p])
        // Someone else changed the affinity numabalance set: it is no longer ours.
        if processes[slot].engineAffinity != nil, processes[slot].engineAffinity != input.allowedCPUs(p) {
            processes[slot].engineAffinity = nil
            processes[slot].placedNode = nil
            processes[slot].placedNodes = nil
            processes[slot].affinityOverridden = true
        }
        decayed.copy(processes[slot].stats, into: p)
    }
}
