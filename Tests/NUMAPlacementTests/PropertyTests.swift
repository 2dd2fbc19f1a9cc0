import NUMAModel
@testable import NUMAPlacement
@testable import NUMASimulation
import PropertyBased
import Testing

/// Properties over random machines and workloads.
@Suite("Properties")
struct PropertyTests {
    static let seeds = Gen.uint64()
    static let nodes = Gen.int(in: 2...4)
    static let cpus = Gen.int(in: 1...4)
    static let processes = Gen.int(in: 1...9)

    @Test("determinism: the same inputs give the same plan, in any order")
    func determinism() async {
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            var a = PlacementEngine(), b = PlacementEngine()
            for _ in 0..<3 {
                let (topology, observations) = rounds.observe()
                let planA = a.plan(topology: topology, observations: observations, now: rounds.now)
                let planB = b.plan(topology: topology, observations: observations.reversed(), now: rounds.now)
                #expect(planA == planB, "\(rounds.machine)")
                rounds.apply(planA)
            }
        }
    }

    @Test("capacity: a plan never puts more runnable threads on a node than its CPUs")
    func capacity() async {
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            let machine = rounds.machine
            rounds.run(4) { _, observations, plan in
                checkCapacity(plan, observations, cpusPerNode: c, nodes: n, machine: machine)
            }
        }
    }

    private func checkCapacity(_ plan: Plan, _ observations: [Observation], cpusPerNode c: Int, nodes n: Int,
                               machine: RandomMachine) {
        var before = Array(repeating: 0, count: n)
        var loads: [ProcessIdentity: [Int]] = [:]
        for o in observations {
            let load = o.loadByNode(count: n)
            loads[o.identity] = load
            for k in 0..<n { before[k] += load[k] }
        }
        var after = before
        var movedOnto = Set<Int>(), swappedOnto = Set<Int>()
        func send(_ process: ProcessIdentity, to node: Int) {
            guard let load = loads[process] else { return }
            for k in 0..<n { after[k] -= load[k] }
            after[node] += load.reduce(0, +)
        }
        for action in plan.actions {
            switch action {
            case .setAffinity(let a) where a.nodes.count == 1 && a.reason.rule == .swap:
                // A group's side of a swap goes as one affinity per member: held to
                // the swap's rule (no fuller than before), like a .swap action.
                send(a.process, to: a.nodes[0].rawValue)
                swappedOnto.insert(a.nodes[0].rawValue)
            case .setAffinity(let a) where a.nodes.count == 1:
                send(a.process, to: a.nodes[0].rawValue)
                movedOnto.insert(a.nodes[0].rawValue)
            case .swap(let s):
                send(s.a, to: s.aNode.rawValue)
                send(s.b, to: s.bNode.rawValue)
                swappedOnto.formUnion([s.aNode.rawValue, s.bNode.rawValue])
            default: break
            }
        }
        for k in movedOnto { #expect(after[k] <= c * 1000, "node \(k) overfilled: \(machine)") }
        for k in swappedOnto { #expect(after[k] <= max(c * 1000, before[k]), "node \(k) overfilled by a swap: \(machine)") }
    }

    @Test("reserve: memory moves never take a node below high watermark + margin")
    func reserve() async {
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var machine = RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p)
            machine.world.memPerNode = 1 << 30   // small nodes: the reserve binds
            var rounds = Rounds(machine)
            rounds.run(4) { topology, _, plan in
                var incoming = Array(repeating: 0.0, count: n)
                for action in plan.actions {
                    switch action {
                    case .movePages(let m): incoming[m.to.rawValue] += Double(m.bytes)
                    case .moveRanges(let m): incoming[m.to.rawValue] += Double(m.bytes)
                    case .setObjectPolicy(let o):
                        for node in o.nodes { incoming[node.rawValue] += Double(o.bytes / UInt64(o.nodes.count)) }
                    default: break
                    }
                }
                for node in topology.nodes where incoming[node.id.rawValue] > 0 {
                    let reserve = Double(node.highWatermarkBytes) + Double(node.memTotalBytes) / 32
                    #expect(Double(node.memFreeBytes) - incoming[node.id.rawValue] >= reserve - 1,
                            "node \(node.id): \(machine)")
                }
            }
        }
    }

    @Test("no ping-pong: no range moves twice within the cool-down")
    func noPingPong() async {
        await propertyCheck(count: 30, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            var moved: [String: Double] = [:]
            for _ in 0..<10 {
                let (topology, observations) = rounds.observe()
                let plan = rounds.engine.plan(topology: topology, observations: observations, now: rounds.now)
                for action in plan.actions {
                    var keys: [String] = []
                    switch action {
                    case .moveRanges(let m): keys = m.ranges.map { "\(m.process.pid):\($0.start)" }
                    case .movePages(let m): keys = ["\(m.process.pid):all"]
                    case .setObjectPolicy(let o): keys = [o.objectKey]
                    default: break
                    }
                    for key in keys {
                        if let last = moved[key] { #expect(rounds.now - last >= 30, "\(key) moved twice: \(rounds.machine)") }
                        moved[key] = rounds.now
                    }
                }
                rounds.apply(plan)
            }
            // And in the machine itself: no page moved by numabalance twice.
            for range in rounds.machine.world.ranges {
                #expect(range.movedByEngine <= Double(range.bytes) * 1.000001, "\(rounds.machine)")
            }
        }
    }

    @Test("every reason's localities are shares: between 0 and 1")
    func localitiesAreShares() async {
        await propertyCheck(count: 30, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            let machine = rounds.machine
            rounds.run(6) { _, _, plan in
                for reason in plan.actions.map(\.reason) {
                    for value in [reason.localityBefore, reason.expectedLocality].compactMap({ $0 }) {
                        #expect(value >= 0 && value <= 1.000001, "\(reason): \(machine)")
                    }
                }
            }
        }
    }

    @Test("cpusets and user pins are never violated")
    func cpusetsAndPins() async {
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            var random = SimRandom(seed: seed ^ 0xC0FFEE)
            let (topology, sampled) = rounds.observe()
            // Give some processes a cpuset: the nodes they run on plus a random other.
            let observations = sampled.map { o -> Observation in
                var o = o
                guard random.next() % 2 == 0 else { return o }
                var nodes = Set(o.threads.compactMap { $0.node?.rawValue })
                nodes.insert(Int(random.next() % UInt64(n)))
                o.cpusetCPUs = CPUSet(nodes.flatMap { topology.nodes[$0].cpus.ids })
                if o.affinityOwner != .user, let cpuset = o.cpusetCPUs { o.allowedCPUs = cpuset }
                return o
            }
            let byID = Dictionary(uniqueKeysWithValues: observations.map { ($0.identity, $0) })
            var engine = PlacementEngine()
            for round in 0..<2 {
                let plan = engine.plan(topology: topology, observations: observations, now: Double(round + 1))
                var placements: [(ProcessIdentity, CPUSet)] = []
                for action in plan.actions {
                    switch action {
                    case .setAffinity(let a): placements.append((a.process, a.cpus))
                    case .swap(let s): placements += [(s.a, s.aCPUs), (s.b, s.bCPUs)]
                    default: break
                    }
                }
                for (process, cpus) in placements {
                    guard let o = byID[process] else { continue }
                    #expect(o.affinityOwner != .user, "a user's pin was changed: \(rounds.machine)")
                    if let cpuset = o.cpusetCPUs { #expect(cpus.isSubset(of: cpuset), "\(rounds.machine)") }
                }
            }
        }
    }

    @Test("steady state: a balanced system, observed and re-observed, yields empty plans")
    func steadyState() async {
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.balanced(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            for _ in 0..<3 {
                let (topology, observations) = rounds.observe()
                let plan = rounds.engine.plan(topology: topology, observations: observations, now: rounds.now)
                #expect(plan.isEmpty, "\(rounds.machine): \(plan.actions.map(\.reason))")
                rounds.apply(plan)
            }
        }
    }
}
