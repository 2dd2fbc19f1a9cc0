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

    @Test("capacity: a plan never puts more runnable threads on a node than its CPUs, one node or a set")
    func capacity() async {
        let placements = CaseTally(), sets = CaseTally()
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            let machine = rounds.machine
            rounds.run(4) { _, observations, plan in
                let counted = checkCapacity(plan, observations, cpusPerNode: c, nodes: n, machine: machine)
                placements.add(counted.placements)
                sets.add(counted.sets)
            }
        }
        // Not vacuous: the random machines did get thread placements, node
        // sets among them. Forty random machines sometimes hold no process too
        // big for one node (a CI run drew none): fixed seeds then follow, every
        // plan checked the same way, until one plan places a node set.
        var seed: UInt64 = 1
        while sets.total == 0, seed <= 400 {
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: 2, cpusPerNode: 1, processes: 6))
            let machine = rounds.machine
            rounds.run(4) { _, observations, plan in
                let counted = checkCapacity(plan, observations, cpusPerNode: 1, nodes: 2, machine: machine)
                placements.add(counted.placements)
                sets.add(counted.sets)
            }
            seed += 1
        }
        #expect(placements.total > 0, "no plan placed any thread")
        #expect(sets.total > 0, "no plan placed threads over a node set")
    }

    /// Checks one plan; returns how many placements it checked, and how many over node sets.
    @discardableResult
    private func checkCapacity(_ plan: Plan, _ observations: [Observation], cpusPerNode c: Int, nodes n: Int,
                               machine: RandomMachine) -> (placements: Int, sets: Int) {
        var before = Array(repeating: 0, count: n)
        var loads: [ProcessIdentity: [Int]] = [:]
        for o in observations {
            let load = o.loadByNode(count: n)
            loads[o.identity] = load
            for k in 0..<n { before[k] += load[k] }
        }
        var after = before
        var movedOnto = Set<Int>(), swappedOnto = Set<Int>()
        var placements = 0, sets = 0
        func send(_ process: ProcessIdentity, to node: Int) {
            guard let load = loads[process] else { return }
            for k in 0..<n { after[k] -= load[k] }
            after[node] += load.reduce(0, +)
        }
        // Over a node set the scheduler balances the threads within the set,
        // where the other nodes' own loads leave room: the set as a whole must
        // have the CPUs (checked below, set by set, with what else runs there).
        var setsPlaced: [(nodes: [Int], load: Int)] = []
        func spread(_ process: ProcessIdentity, over nodes: [Int]) {
            guard let load = loads[process], !nodes.isEmpty else { return }
            for k in 0..<n { after[k] -= load[k] }
            setsPlaced.append((nodes, load.reduce(0, +)))
        }
        for action in plan.actions {
            if case .setAffinity = action { placements += 1 }
            if case .swap = action { placements += 1 }
            switch action {
            case .setAffinity(let a) where a.nodes.count > 1:
                spread(a.process, over: a.nodes.map(\.rawValue))
                sets += 1
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
        // (Capacity.fits: light crumbs of other processes fit beside a busy thread per CPU.)
        for k in movedOnto { #expect(after[k] <= c * 1000 + Capacity.idleThreadLoad, "node \(k) overfilled: \(machine)") }
        // A node a move of this plan filled up to its crumbs may then take a
        // swap that adds nothing (seen: 2000 → 3050 on 3 CPUs, 1 run in ~12).
        for k in swappedOnto {
            let room = c * 1000 + (movedOnto.contains(k) ? Capacity.idleThreadLoad : 0)
            #expect(after[k] <= max(room, before[k]), "node \(k) overfilled by a swap: \(machine)")
        }
        // The sets' loads fit when they can be spread (Hall's condition): for
        // every group of nodes, what must run inside it (its nodes' own loads,
        // and the sets wholly inside it) fits the group's room, a node's room
        // being its CPUs (with Capacity.fits' crumbs), or what it already ran
        // (a user's own overfill).
        if !setsPlaced.isEmpty {
            for mask in 1..<(1 << n) {
                let inside = (0..<n).filter { mask & (1 << $0) != 0 }
                let must = inside.reduce(0) { $0 + after[$1] }
                    + setsPlaced.filter { $0.nodes.allSatisfy { mask & (1 << $0) != 0 } }.reduce(0) { $0 + $1.load }
                let room = inside.reduce(0) { $0 + max(c * 1000 + Capacity.idleThreadLoad, before[$1]) }
                #expect(must <= room, "nodes \(inside) overfilled by node sets: \(machine)")
            }
        }
        return (placements, sets)
    }

    @Test("reserve: memory moves never take a node below high watermark + margin")
    func reserve() async {
        let moves = CaseTally()
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var machine = RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p)
            machine.world.memPerNode = 1 << 30   // small nodes: the reserve binds
            var rounds = Rounds(machine)
            rounds.run(4) { topology, _, plan in
                var incoming = Array(repeating: 0.0, count: n)
                moves.add(Fixture.memoryMoves(plan).count)
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
        #expect(moves.total > 0, "no plan moved memory: the reserve was never put to the test")
    }

    @Test("no ping-pong: no range moves twice within the cool-down")
    func noPingPong() async {
        let moves = CaseTally()
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
                    moves.add(keys.count)
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
        #expect(moves.total > 0, "no range was ever moved")
    }

    @Test("every reason's localities are shares: between 0 and 1")
    func localitiesAreShares() async {
        let values = CaseTally()
        await propertyCheck(count: 30, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            var rounds = Rounds(RandomMachine.make(seed: seed, nodes: n, cpusPerNode: c, processes: p))
            let machine = rounds.machine
            rounds.run(6) { _, _, plan in
                for reason in plan.actions.map(\.reason) {
                    for value in [reason.localityBefore, reason.expectedLocality].compactMap({ $0 }) {
                        values.add(1)
                        #expect(value >= 0 && value <= 1.000001, "\(reason): \(machine)")
                    }
                }
            }
        }
        #expect(values.total > 0, "no reason carried a locality")
    }

    @Test("cpusets and user pins are never violated")
    func cpusetsAndPins() async {
        let checked = CaseTally()
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
                checked.add(placements.count)
                for (process, cpus) in placements {
                    guard let o = byID[process] else { continue }
                    #expect(o.affinityOwner != .user, "a user's pin was changed: \(rounds.machine)")
                    if let cpuset = o.cpusetCPUs { #expect(cpus.isSubset(of: cpuset), "\(rounds.machine)") }
                }
            }
        }
        #expect(checked.total > 0, "no plan placed a thread: pins and cpusets were never put to the test")
    }

    /// The positive half the safety properties lack: an engine that plans
    /// nothing fails here. Hard bind binds the misplaced process (threads and
    /// memory) to its memory's node if that has room and the kernel's
    /// imbalance rule allows the move, else to its threads' node; the engine must get within 0.05 of that locality in 12 rounds,
    /// moving at most 1.1× the bytes hard bind moves.
    @Test("a misplaced process that fits a node ends within 0.05 of hard bind's locality, moving ≤ 1.1× the misplaced bytes")
    func misplacedConverges() async {
        let cases = CaseTally()
        await propertyCheck(count: 40, input: Self.seeds, Self.nodes, Self.cpus, Self.processes) { seed, n, c, p in
            guard let (machine, misplaced) = RandomMachine.oneMisplaced(seed: seed, nodes: n, cpusPerNode: c, processes: p)
            else { return }
            cases.add(1)
            let hard = Self.hardBindLocality(machine.world, misplacedBytes: misplaced)
            var rounds = Rounds(machine)
            rounds.run(12) { _, _, _ in }
            let world = rounds.machine.world
            let moved = world.ranges.reduce(0.0) { $0 + $1.movedByEngine }
            let locality = Self.lastProcessLocality(world)
            #expect(locality >= hard.process - 0.05, "locality \(locality), hard bind \(hard.process): \(machine)")
            #expect(world.locality >= hard.machine - 0.05,
                    "the machine's locality \(world.locality), hard bind \(hard.machine): \(machine)")
            #expect(moved <= 1.1 * Double(misplaced) + 1, "moved \(moved) for \(misplaced) misplaced: \(machine)")
        }
        #expect(cases.total >= 20, "only \(cases.total) machines had a misplaced process")
    }

    /// The misplaced (last) process's own locality, and the machine's, one
    /// round after hard bind placed it (no misplaced bytes: to its memory).
    static func hardBindLocality(_ start: SimWorld, misplacedBytes: UInt64) -> (process: Double, machine: Double) {
        var world = start
        let p = world.processes.count - 1
        let memoryNode = (0..<world.nodeCount).max { a, b in
            world.processes[p].ranges.reduce(0.0) { $0 + world.ranges[$1].onNode[a] }
                < world.processes[p].ranges.reduce(0.0) { $0 + world.ranges[$1].onNode[b] }
        } ?? 0
        world.bind(process: p, to: misplacedBytes == 0 ? memoryNode : world.processes[p].threads[0].node)
        world.schedule()
        world.run(interval: 1)
        return (lastProcessLocality(world), world.locality)
    }

    /// The last process's locality (the machine's would hide one process among many).
    static func lastProcessLocality(_ world: SimWorld) -> Double {
        let threads = world.processes.last?.threads ?? []
        let cpu = threads.reduce(0.0) { $0 + $1.cpuLastRound }
        return cpu > 0 ? threads.reduce(0.0) { $0 + $1.cpuLastRound * world.threadLocality($1) } / cpu : 0
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
