import NUMAModel

/// The working set of one planning round: the inputs as rows, the units, the
/// node accounting as decisions are taken, and the actions and deferrals.
struct PlacementRound {
    let config: PlacementConfig
    let nodes: NodeTable
    let input: RoundInput
    let units: UnitTable
    let now: Double
    var state: EngineState
    /// State slot of each process of the round.
    let slot: [Int]

    /// Runnable load per node (milli-CPUs), all known processes, as the plan
    /// changes it; and as it was before the plan.
    var nodeLoad: [Int]
    let loadBefore: [Int]
    var reserve: MemoryReserve

    // Per unit.
    var preferred: [Int?]
    var settled: [Int?]
    var cooling: [Bool]
    var movable: [Bool]
    var lifted: [Bool]
    /// Node the unit's threads are sent to this round (-1: none), the rule,
    /// the swap partner (-1: none), the reason.
    var target: [Int]
    /// Nodes a unit too big for one node is sent to this round (nil: none).
    var targetNodes: [NodeMask?]
    var partner: [Int]
    /// Reasons of the units sent somewhere.
    var threadReason: UnitReasons
    /// Units in the order they were assigned, for undoing.
    var assignments: [Int] = []

    // Per process.
    var expectedLocality: [Double?]
    var actions: [Action] = []
    var memoryActions: [Action] = []
    var deferred: [Deferral] = []
    /// Processes with moves held back by the budget: sampled again soon.
    var budgetWaiting = Set<Int>()

    init(config: PlacementConfig, nodes: NodeTable, input: RoundInput, state: EngineState, slot: [Int],
         decayed: DecayedRows, now: Double, nodeBusy: [NodeID: Int] = [:])
    {
        self.config = config
        self.nodes = nodes
        self.input = input
        self.now = now
        self.state = state
        self.slot = slot
        let units = UnitTable(input: input, decayed: decayed)
        self.units = units
        var load = Array(repeating: 0, count: nodes.count)
        // By index: iterating the values would copy every state.
        for i in state.processes.indices {
            let node = state.processes[i].loadNode
            if node >= 0, node < load.count {
                load[node] += state.processes[i].loadTotal
            } else if state.processes[i].loadByNode != nil {
                state.processes[i].addLoad(to: &load)
            }
        }
        Self.spreadWithinSets(state.processes, load: &load, capacity: nodes.capacity)
        // Load the engine does not know of: measured busy time beyond the
        // processes it knows, in whole CPUs (a pinned service's threads; less
        // than a CPU is timers, /proc reads, kernel work, a shell).
        for (id, busy) in nodeBusy {
            guard let k = nodes.position(of: id) else { continue }
            let unseen = (busy - load[k]) / PlacementConfig.unseenLoadUnit * PlacementConfig.unseenLoadUnit
            if unseen > 0 { load[k] += unseen }
        }
        nodeLoad = load
        loadBefore = load
        reserve = MemoryReserve(nodes: nodes)
        let count = units.count
        preferred = Array(repeating: nil, count: count)
        settled = Array(repeating: nil, count: count)
        cooling = Array(repeating: false, count: count)
        movable = Array(repeating: false, count: count)
        lifted = Array(repeating: false, count: count)
        target = Array(repeating: -1, count: count)
        targetNodes = Array(repeating: nil, count: count)
        partner = Array(repeating: -1, count: count)
        expectedLocality = Array(repeating: nil, count: input.count)
        threadReason = UnitReasons(units: count)
        classify()
    }

    /// A process given a set of nodes: the scheduler spreads its threads over
    /// them, so its load piled this instant on a node of the set beyond the
    /// node's CPUs counts on the set's nodes with room instead (two threads of
    /// one-CPU nodes seen on the same node must not leave the other looking
    /// free to the next unit). Never down to a node's CPUs where it was piled:
    /// that node stays over them, closed to any move.
    static func spreadWithinSets(_ processes: [ProcessState], load: inout [Int], capacity: [Int]) {
        for i in processes.indices {
            guard let set = processes[i].placedNodes, set.count > 1, processes[i].loadTotal > 0 else { continue }
            var own = Array(repeating: 0, count: load.count)
            let node = processes[i].loadNode
            if node >= 0, node < own.count { own[node] = processes[i].loadTotal }
            if let spread = processes[i].loadByNode { for k in 0..<min(spread.count, own.count) { own[k] = spread[k] } }
            for k in set where k < load.count && load[k] > capacity[k] + 1 {
                // It stays just over its CPUs: still a node nothing more may go to.
                var excess = min(load[k] - capacity[k] - 1, own[k])
                for j in set where j != k && j < load.count && load[j] < capacity[j] && excess > 0 {
                    let shift = min(excess, capacity[j] - load[j])
                    load[k] -= shift
                    load[j] += shift
                    own[k] -= shift
                    excess -= shift
                }
            }
        }
    }

    /// Preferred node, current node, cool-down and mobility of every unit.
    private mutating func classify() {
        let n = nodes.count
        for u in 0..<units.count {
            let leaderSlot = slot[units.leader(u)]
            settled[u] = units.settledNode(u, share: config.settledLoadShare)
            let allowedNodes = units.threadNodes[u].intersection(units.memoryNodes[u])
            let group = units.isGroup(u)
            let leaderIdentity = group ? state.processes[leaderSlot].identity : ProcessIdentity(pid: 0, startTime: 0)
            let previous = group ? state.groupPreferred[leaderIdentity] : state.processes[leaderSlot].preferred
            let choice = PreferredNode.choose(
                count: n, faults: { units.mem[u * n + $0] }, allowed: { allowedNodes.contains($0) },
                current: settled[u], previous: previous, margin: config.preferredNodeMargin)
            preferred[u] = choice
            for i in units.memberRange(u) {
                let p = units.members[i]
                let s = slot[p]
                if state.processes[s].preferred != choice { state[s].preferred = choice }
                if state.processes[s].actedAt != nil,
                   state.processes[s].coolingDown(now: now, cooldown: config.cooldownSeconds,
                                                  locality: input.locality[p], sharpDrop: config.sharpLocalityDrop) {
                    cooling[u] = true
                }
            }
            if group, let choice { state.groupPreferred[leaderIdentity] = choice }
            movable[u] = Capacity.accesses(load: units.totalLoad[u]) && units.pinnedNodes[u].isEmpty && !units.threadNodes[u].isEmpty
        }
    }

    /// Whether the unit fits one node: its runnable load within the node's
    /// CPUs and its memory within the node's memory above the reserve.
    func fitsOneNode(_ u: Int) -> Bool {
        let bytes = units.totalBytes(u)
        for k in units.threadNodes[u].indices(upTo: nodes.count)
        where Capacity.fits(units.totalLoad[u], capacity: nodes.capacity[k]) && bytes + nodes.reserve[k] <= nodes.memTotal[k] {
            return true
        }
        return false
    }

    /// Bytes of the unit not on node k: what must follow its threads there.
    func bytesToFollow(_ u: Int, to k: Int) -> UInt64 {
        units.totalBytes(u) - units.bytes(u, k)
    }

    /// The unit's page share on k: its locality once its threads run on k.
    func localityOn(_ u: Int, _ k: Int) -> Double {
        let total = units.totalBytes(u)
        return total > 0 ? Double(units.bytes(u, k)) / Double(total) : 0
    }

    /// Cool-down of a process: remembers the action and what it promised.
    mutating func markActed(_ p: Int, expected: Double?) {
        state[slot[p]].actedAt = now
        state[slot[p]].affinityOverridden = false
        state[slot[p]].expectedLocality = expected
    }

    func identity(_ p: Int) -> ProcessIdentity { input.identity(p) }
}

/// The reason of each unit's thread move: an index per unit into a short
/// list (a row of optional reasons would be large; a dictionary, hashing).
struct UnitReasons {
    private var index: [Int32]
    private var list: [Reason] = []

    init(units: Int) { index = Array(repeating: -1, count: units) }

    subscript(unit: Int) -> Reason? {
        get { index[unit] >= 0 ? list[Int(index[unit])] : nil }
        set {
            guard let newValue else { index[unit] = -1; return }
            if index[unit] >= 0 { list[Int(index[unit])] = newValue } else {
                index[unit] = Int32(list.count)
                list.append(newValue)
            }
        }
    }
}
