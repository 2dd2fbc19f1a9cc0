import NUMAModel

/// Carries a plan out on the simulated machine: affinity at once, page moves
/// queued and done at the machine's migration bandwidth.
struct SimActuator {
    /// Bytes per second the machine migrates.
    var bandwidth: Double
    private var pending: [(range: Int, target: [Double])] = []
    private let processIndex: [ProcessIdentity: Int]
    private let objectIndex: [String: Int]

    init(world: SimWorld, bandwidth: Double) {
        self.bandwidth = bandwidth
        processIndex = Dictionary(uniqueKeysWithValues: world.processes.enumerated().map { ($1.identity, $0) })
        objectIndex = Dictionary(uniqueKeysWithValues: world.objects.enumerated().map { ($1.info.key, $0) })
    }

    /// Applies the plan's actions; returns the nodes that received threads.
    mutating func apply(_ plan: Plan, to world: inout SimWorld) -> Set<Int> {
        var receiving = Set<Int>()
        for action in plan.actions {
            switch action {
            case .setAffinity(let a):
                if let node = setAffinity(a.process, a.cpus, in: &world) { receiving.insert(node) }
            case .swap(let s):
                if let node = setAffinity(s.a, s.aCPUs, in: &world) { receiving.insert(node) }
                if let node = setAffinity(s.b, s.bCPUs, in: &world) { receiving.insert(node) }
            case .movePages(let m):
                guard let p = processIndex[m.process] else { continue }
                let from = Set(m.from.map(\.rawValue))
                for r in world.processes[p].ranges where world.ranges[r].object == nil {
                    // migrate_pages: what is on the source nodes goes; the rest stays.
                    var target = world.ranges[r].onNode.map { $0 / Double(max(1, world.ranges[r].bytes)) }
                    for k in from where k < target.count {
                        target[m.to.rawValue] += target[k]
                        target[k] = 0
                    }
                    pending.append((r, target))
                }
            case .moveRanges(let m):
                guard let p = processIndex[m.process] else { continue }
                let starts = Set(m.ranges.map(\.start))
                for r in world.processes[p].ranges where starts.contains(world.ranges[r].start) {
                    queue(r, to: [m.to.rawValue], in: world)
                }
            case .setObjectPolicy(let o):
                guard let index = objectIndex[o.objectKey], o.moveExisting else { continue }
                for r in world.objects[index].ranges { queue(r, to: o.nodes.map(\.rawValue), in: world) }
            }
        }
        return receiving
    }

    /// The node the process is confined to, if the affinity is one node.
    private func setAffinity(_ identity: ProcessIdentity, _ cpus: CPUSet, in world: inout SimWorld) -> Int? {
        guard let p = processIndex[identity] else { return nil }
        let nodes = (0..<world.nodeCount).map { k in cpus.ids.contains { $0 / world.cpusPerNode == k } }
        world.processes[p].affinity = nodes
        world.processes[p].affinityOwner = nodes.allSatisfy { $0 } ? .unrestricted : .numabalance
        let chosen = nodes.indices.filter { nodes[$0] }
        return chosen.count == 1 ? chosen[0] : nil
    }

    private mutating func queue(_ range: Int, to nodes: [Int], in world: SimWorld) {
        var target = Array(repeating: 0.0, count: world.nodeCount)
        for node in nodes where node < world.nodeCount { target[node] = 1 / Double(nodes.count) }
        pending.append((range, target))
    }

    /// Moves queued pages for one round; returns the bytes moved.
    mutating func migrate(_ world: inout SimWorld, interval: Double) -> Double {
        var left = bandwidth * interval
        var moved = 0.0
        var remaining: [(range: Int, target: [Double])] = []
        for move in pending {
            guard left > 0 else { remaining.append(move); continue }
            let done = world.move(range: move.range, toward: move.target, upTo: left)
            moved += done
            left -= done
            if left <= 0 { remaining.append(move) }
        }
        pending = remaining
        return moved
    }
}
