import NUMAModel

/// The timed plan carried out in full on the simulated machine it was made
/// for: a fast plan that fixes nothing is no result, so the benchmark shows
/// the locality it reaches beside the locality before and hard bind's.
public struct PlanEffect: Codable, Sendable {
    /// Processes built running away from their memory (the truth, not a sample).
    public var misplacedProcesses: Int
    public var localityBefore: Double
    public var localityAfter: Double
    /// The best static placement (every process bound beside its memory).
    public var localityHardBind: Double
    public var bytesMoved: UInt64
    /// Bytes that must move to reach hard bind's placement.
    public var misplacedBytes: UInt64
    /// The plan's deferrals by rule: why a short plan is short.
    public var deferred: [String: Int]

    /// Rebuilds many-small's misplaced round (as `EngineWorkload.manySmall`
    /// does) and applies `plan` to it: affinity at once, every page move done.
    public init(of plan: Plan, nodes: Int, seed: UInt64) {
        deferred = plan.deferred.reduce(into: [:]) { $0[$1.reason.rule.rawValue, default: 0] += 1 }
        let initial = Scenario.manySmall.build(nodes: nodes, seed: seed)
        var world = initial
        Self.run(&world)
        misplacedProcesses = world.processes.filter { p in
            let bytes = p.ranges.reduce(0.0) { $0 + Double(world.ranges[$1].bytes) }
            return p.threads.contains { t in p.ranges.reduce(0.0) { $0 + world.ranges[$1].onNode[t.node] } < bytes / 2 }
        }.count
        localityBefore = world.locality
        var bound = Scenario.manySmall.hardBind(initial)
        Self.run(&bound)
        localityHardBind = bound.locality
        misplacedBytes = initial.bytesToReach(bound)
        bytesMoved = UInt64(Self.apply(plan, to: &world).rounded())
        Self.run(&world)
        localityAfter = world.locality
    }

    /// One round of CPU time as the simulator counts it (an overfull node
    /// shares its CPUs): locality weighs threads by it.
    static func run(_ world: inout SimWorld) {
        let demand = world.nodeDemand
        let cpus = Double(world.cpusPerNode)
        for p in world.processes.indices {
            for t in world.processes[p].threads.indices {
                let thread = world.processes[p].threads[t]
                let share = demand[thread.node] > cpus ? cpus / demand[thread.node] : 1
                world.processes[p].threads[t].cpuLastRound = thread.demand * share
            }
        }
    }

    /// Carries the actions out; returns the bytes moved.
    static func apply(_ plan: Plan, to world: inout SimWorld) -> Double {
        let index = Dictionary(uniqueKeysWithValues: world.processes.enumerated().map { ($1.identity, $0) })
        var moved = 0.0
        func pin(_ identity: ProcessIdentity, _ cpus: CPUSet) {
            guard let p = index[identity] else { return }
            let allowed = (0..<world.nodeCount).map { k in cpus.ids.contains { $0 / world.cpusPerNode == k } }
            world.processes[p].affinity = allowed
            for t in world.processes[p].threads.indices where !allowed[world.processes[p].threads[t].node] {
                let demand = world.nodeDemand
                let best = (0..<world.nodeCount).filter { allowed[$0] }.min { demand[$0] < demand[$1] }
                if let best { world.processes[p].threads[t].node = best }
            }
        }
        // Moves every byte of range r that is on `from` (all nodes when nil) to `to`.
        func move(_ r: Int, from: Set<Int>?, to: Int) {
            for k in 0..<world.nodeCount where k != to && (from?.contains(k) ?? true) {
                moved += world.ranges[r].onNode[k]
                world.ranges[r].onNode[to] += world.ranges[r].onNode[k]
                world.ranges[r].onNode[k] = 0
            }
        }
        for action in plan.actions {
            switch action {
            case .setAffinity(let a): pin(a.process, a.cpus)
            case .swap(let s): pin(s.a, s.aCPUs); pin(s.b, s.bCPUs)
            case .movePages(let m):
                guard let p = index[m.process] else { continue }
                for r in world.processes[p].ranges where world.ranges[r].object == nil {
                    move(r, from: Set(m.from.map(\.rawValue)), to: m.to.rawValue)
                }
            case .moveRanges(let m):
                guard let p = index[m.process] else { continue }
                let starts = Set(m.ranges.map(\.start))
                for r in world.processes[p].ranges where starts.contains(world.ranges[r].start) {
                    move(r, from: nil, to: m.to.rawValue)
                }
            case .setObjectPolicy:
                continue  // many-small has no shared objects
            }
        }
        return moved
    }
}
