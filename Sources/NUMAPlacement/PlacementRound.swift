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
    /// EngineState slot of each process of the round.
    let slot: Rows<ProcessIndex, Int>

    /// Runnable load per node (milli-CPUs), all known processes, as the plan
    /// changes it; and as it was before the plan.
    var nodeLoad: Rows<NodeIndex, Int>
    let loadBefore: Rows<NodeIndex, Int>
    var reserve: MemoryReserve

    // Per unit.
    var preferred: Rows<UnitIndex, NodeIndex?>
    var settled: Rows<UnitIndex, NodeIndex?>
    var cooling: Rows<UnitIndex, Bool>
    var movable: Rows<UnitIndex, Bool>
    var lifted: Rows<UnitIndex, Bool>
    /// Node the unit's threads are sent to this round, and its swap partner.
    var target: Rows<UnitIndex, NodeIndex?>
    /// Nodes a unit too big for one node is sent to this round.
    var targetNodes: Rows<UnitIndex, NodeMask?>
    var partner: Rows<UnitIndex, UnitIndex?>
    /// Reasons of the units sent somewhere.
    var threadReason: UnitReasons
    /// Units in the order they were assigned, for undoing.
    var assignments: [UnitIndex] = []

    // Per process.
    var expectedLocality: Rows<ProcessIndex, Double?>
    var actions: [Action] = []
    var memoryActions: [Action] = []
    var deferred: [Deferral] = []
    /// Processes with moves held back by the budget: sampled again soon.
    var budgetWaiting = Set<ProcessIndex>()

    init(config: PlacementConfig, nodes: NodeTable, input: RoundInput, state: EngineState, slot: Rows<ProcessIndex, Int>,
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
        var load = Rows<NodeIndex, Int>(repeating: 0, count: nodes.count)
        // By index: iterating the values would copy every state.
        for i in state.processes.indices {
            if let node = state.processes[i].loadNode, node.row < load.count {
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
        preferred = Rows(repeating: nil, count: count)
        settled = Rows(repeating: nil, count: count)
        cooling = Rows(repeating: false, count: count)
        movable = Rows(repeating: false, count: count)
        lifted = Rows(repeating: false, count: count)
        target = Rows(repeating: nil, count: count)
        targetNodes = Rows(repeating: nil, count: count)
        partner = Rows(repeating: nil, count: count)
        expectedLocality = Rows(repeating: nil, count: input.count)
        threadReason = UnitReasons(units: count)
        classify()
    }

    /// A process given a set of nodes: the scheduler spreads its threads over
    /// them, so its load piled this instant on a node of the set beyond the
    /// node's CPUs counts on the set's nodes with room instead (two threads of
    /// one-CPU nodes seen on the same node must not leave the other looking
    /// free to the next unit). Never down to a node's CPUs where it was piled:
    /// that node stays over them, closed to any move.
    static func spreadWithinSets(_ processes: [ProcessState], load: inout Rows<NodeIndex, Int>,
                                 capacity: Rows<NodeIndex, Int>) {
        for i in processes.indices {
            guard let set = processes[i].placedNodes, set.count > 1, processes[i].loadTotal > 0 else { continue }
            var own = Rows<NodeIndex, Int>(repeating: 0, count: load.count)
            if let node = processes[i].loadNode, node.row < own.count { own[node] = processes[i].loadTotal }
            if let spread = processes[i].loadByNode {
                for k in own.indices where k.row < spread.count { own[k] = spread[k.row] }
            }
            for k in set where k.row < load.count && load[k] > capacity[k] + 1 {
                // It stays just over its CPUs: still a node nothing more may go to.
                var excess = min(load[k] - capacity[k] - 1, own[k])
                for j in set where j != k && j.row < load.count && load[j] < capacity[j] && excess > 0 {
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
        for u in units.all {
            let leaderSlot = slot[units.leader(u)]
            settled[u] = units.settledNode(u, share: config.settledLoadShare)
            let allowedNodes = units.threadNodes[u].intersection(units.memoryNodes[u])
            let group = units.isGroup(u)
            let leaderIdentity = group ? state.processes[leaderSlot].identity : ProcessIdentity(pid: 0, startTime: 0)
            let previous = group ? state.groupPreferred[leaderIdentity] : state.processes[leaderSlot].preferred
            // PreferredNode is the kernel's rule over plain positions (its own tests use them).
            let choice = PreferredNode.choose(
                count: nodes.count, faults: { units.mem(u, NodeIndex($0)) },
                allowed: { allowedNodes.contains(NodeIndex($0)) },
                current: settled[u]?.row, previous: previous?.row, margin: config.preferredNodeMargin).map(NodeIndex.init)
            preferred[u] = choice
            for p in units.members(of: u) {
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
    func fitsOneNode(_ u: UnitIndex) -> Bool {
        let bytes = units.totalBytes(u)
        for k in units.threadNodes[u].indices(upTo: nodes.count)
        where Capacity.fits(units.totalLoad[u], capacity: nodes.capacity[k]) && bytes + nodes.reserve[k] <= nodes.memTotal[k] {
            return true
        }
        return false
    }

    /// Bytes of the unit not on node k: what must follow its threads there.
    func bytesToFollow(_ u: UnitIndex, to k: NodeIndex) -> UInt64 {
        units.totalBytes(u) - units.bytes(u, k)
    }

    /// The unit's page share on k: its locality once its threads run on k.
    func localityOn(_ u: UnitIndex, _ k: NodeIndex) -> Double {
        let total = units.totalBytes(u)
        return total > 0 ? Double(units.bytes(u, k)) / Double(total) : 0
    }

    /// Cool-down of a process: remembers the action and what it promised.
    mutating func markActed(_ p: ProcessIndex, expected: Double?) {
        state[slot[p]].actedAt = now
        state[slot[p]].affinityOverridden = false
        state[slot[p]].expectedLocality = expected
    }

    func identity(_ p: ProcessIndex) -> ProcessIdentity { input.identity(p) }
}

/// The reason of each unit's thread move: an index per unit into a short
/// list (a row of optional reasons would be large; a dictionary, hashing).
struct UnitReasons {
    /// Position in `list` plus one; 0 for none (four bytes a unit).
    private var index: Rows<UnitIndex, UInt32>
    private var list: [Reason] = []

    init(units: Int) { index = Rows(repeating: 0, count: units) }

    subscript(unit: UnitIndex) -> Reason? {
        get { index[unit] > 0 ? list[Int(index[unit]) - 1] : nil }
        set {
            guard let newValue else { index[unit] = 0; return }
            if index[unit] > 0 { list[Int(index[unit]) - 1] = newValue } else {
                list.append(newValue)
                index[unit] = UInt32(list.count)
            }
        }
    }
}
