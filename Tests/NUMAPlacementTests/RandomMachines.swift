import NUMAModel
import Synchronization
@testable import NUMAPlacement
@testable import NUMASimulation

/// Random machines and workloads for the property tests, built from a seed
/// so a failure replays.
struct RandomMachine: Sendable, CustomStringConvertible {
    var world: SimWorld
    var seed: UInt64

    var description: String {
        "seed \(seed): \(world.nodeCount) nodes × \(world.cpusPerNode) CPUs, \(world.processes.count) processes"
    }

    /// Processes of 1–4 threads and 64–256 MiB, memory first-touched on one
    /// node (sometimes split over two), threads anywhere; a fifth pinned by
    /// their user; sometimes two processes share a segment.
    static func make(seed: UInt64, nodes: Int, cpusPerNode: Int, processes: Int) -> RandomMachine {
        var random = SimRandom(seed: seed)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(max(1, n))) }
        var b = WorldBuilder(nodes: nodes, cpusPerNode: cpusPerNode, memPerNode: 4 << 30)
        let segment = pick(3) == 0 ? b.object(bytes: 128 << 20, on: pick(nodes)) : nil
        for j in 0..<processes {
            var memory = b.ranges(bytes: UInt64(1 + pick(4)) << 26, on: pick(nodes))
            if pick(3) == 0, let last = memory.last { b.place(last, on: pick(nodes)) }
            var weights = b.uniform(memory)
            var objects: [Int] = []
            if let segment, j < 2 {
                memory += segment.ranges
                weights = weights.map { $0 / 2 } + b.uniform(segment.ranges).map { $0 / 2 }
                objects = [segment.index]
            }
            let pin: Int? = pick(5) == 0 ? pick(nodes) : nil
            let threads = (0..<(1 + pick(4))).map { _ in
                WorldBuilder.ThreadSpec(node: pin ?? pick(nodes), demand: [1, 1, 0.3, 0.05][pick(4)],
                                        accesses: memory, weights: weights)
            }
            b.process(comm: "random", threads: threads, ranges: memory, objects: objects, pinnedTo: pin)
        }
        var world = b.world
        world.schedule()
        return RandomMachine(world: world, seed: seed)
    }

    /// A balanced machine: each process runs on one node with room for its
    /// threads, all its memory there.
    static func balanced(seed: UInt64, nodes: Int, cpusPerNode: Int, processes: Int) -> RandomMachine {
        var random = SimRandom(seed: seed)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(max(1, n))) }
        var b = WorldBuilder(nodes: nodes, cpusPerNode: cpusPerNode, memPerNode: 4 << 30)
        _ = addLocal(processes, to: &b, nodes: nodes, cpusPerNode: cpusPerNode, keeping: 0, pick: pick)
        return RandomMachine(world: b.world, seed: seed)
    }

    /// Up to `processes` processes, each on one node with room for its
    /// threads (leaving `keeping` CPUs of a node free), all its memory there.
    /// Returns the CPUs left free on each node.
    static func addLocal(_ processes: Int, to b: inout WorldBuilder, nodes: Int, cpusPerNode: Int, keeping: Int,
                         pick: (Int) -> Int) -> [Int] {
        var free = Array(repeating: cpusPerNode, count: nodes)
        for _ in 0..<processes {
            let home = pick(nodes)
            guard free[home] > keeping else { continue }
            let count = 1 + pick(free[home] - keeping)
            free[home] -= count
            let memory = b.ranges(bytes: UInt64(1 + pick(4)) << 26, on: home)
            let threads = (0..<count).map { _ in
                WorldBuilder.ThreadSpec(node: home, accesses: memory, weights: b.uniform(memory))
            }
            b.process(comm: "balanced", threads: threads, ranges: memory)
        }
        return free
    }
}

extension RandomMachine {
    /// A balanced machine plus one misplaced process that fits a node: its
    /// memory on one node, its threads (all busy) on another that has room
    /// for them. Returns the machine and the bytes that must move to reach
    /// the best static placement: none when the memory's node has room for
    /// the threads (they go there), else the process's memory.
    static func oneMisplaced(seed: UInt64, nodes: Int, cpusPerNode: Int, processes: Int)
        -> (machine: RandomMachine, misplacedBytes: UInt64)?
    {
        var random = SimRandom(seed: seed)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(max(1, n))) }
        var b = WorldBuilder(nodes: nodes, cpusPerNode: cpusPerNode, memPerNode: 4 << 30)
        // A CPU of each node kept, so that the misplaced one has room somewhere.
        let free = addLocal(processes, to: &b, nodes: nodes, cpusPerNode: cpusPerNode, keeping: 1, pick: pick)
        let memoryNode = pick(nodes)
        guard let runNode = (0..<nodes).filter({ $0 != memoryNode && free[$0] >= 1 }).max(by: { free[$0] < free[$1] })
        else { return nil }
        let count = 1 + pick(free[runNode])
        let bytes = UInt64(1 + pick(4)) << 26
        let memory = b.ranges(bytes: bytes, on: memoryNode)
        let threads = (0..<count).map { _ in WorldBuilder.ThreadSpec(node: runNode, accesses: memory, weights: b.uniform(memory)) }
        b.process(comm: "misplaced", threads: threads, ranges: memory)
        var world = b.world
        world.schedule()
        // Its threads may join their memory when that node has the CPUs and
        // the kernel's imbalance rule lets the move through; else the memory
        // must come to them (the misplaced bytes).
        let busy = (0..<nodes).map { (cpusPerNode - free[$0]) * 1000 }
        let threadsMayGo = free[memoryNode] >= count && Capacity.keepsBalanceOrSmall(
            load: count * 1000, sourceLoad: busy[runNode] + count * 1000, destinationLoad: busy[memoryNode],
            sourceCapacity: cpusPerNode * 1000, destinationCapacity: cpusPerNode * 1000)
        return (RandomMachine(world: world, seed: seed), threadsMayGo ? 0 : bytes)
    }
}

/// Counts across the cases of a property check, so that a property of what
/// the plans do cannot pass on plans that do nothing.
final class CaseTally: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var total: Int { count.withLock { $0 } }
}

/// Rounds of the engine on a random machine: every process sampled every
/// round, each plan applied by the simulated actuator.
struct Rounds {
    var machine: RandomMachine
    var engine: PlacementEngine
    var sampler: SimSampler
    var actuator: SimActuator
    var now = 0.0

    init(_ machine: RandomMachine, config: PlacementConfig = PlacementConfig()) {
        self.machine = machine
        engine = PlacementEngine(config: config)
        sampler = SimSampler(seed: machine.seed)
        actuator = SimActuator(world: machine.world, bandwidth: Double(64 << 30))
    }

    /// Runs the threads one second and samples every process.
    mutating func observe() -> (Topology, [Observation]) {
        now += 1
        machine.world.schedule()
        machine.world.run(interval: 1)
        let observations = machine.world.processes.indices.map {
            sampler.observe(&machine.world, process: $0, now: now, mode: engine.config.mode)
        }
        return (machine.world.topology, observations)
    }

    /// `count` rounds of observe → plan → `check` → apply: the loop every
    /// property runs.
    mutating func run(_ count: Int, check: (Topology, [Observation], Plan) -> Void) {
        for _ in 0..<count {
            let (topology, observations) = observe()
            let plan = engine.plan(topology: topology, observations: observations, now: now)
            check(topology, observations, plan)
            apply(plan)
        }
    }

    mutating func apply(_ plan: Plan) {
        _ = actuator.apply(plan, to: &machine.world)
        machine.world.schedule()
        _ = actuator.migrate(&machine.world, interval: 1)
    }
}

extension Observation {
    /// Runnable load of the process on each node (positions = node ids here).
    func loadByNode(count: Int) -> [Int] {
        var load = Array(repeating: 0, count: count)
        var light = 0, busy = false, lightest = (node: -1, load: 0)
        for thread in threads {
            guard let node = thread.node?.rawValue, node < count else { continue }
            let one = Capacity.runnableLoad(cpuSeconds: thread.cpuSeconds, intervalSeconds: intervalSeconds,
                                            state: thread.state)
            load[node] += one
            if one < Capacity.idleThreadLoad {
                light += one
                if one > lightest.load { lightest = (node, one) }
            } else {
                busy = true
            }
        }
        // DESIGN's load: one light thread beside busy ones (an idle launcher) needs no CPU.
        if busy, lightest.node >= 0 { load[lightest.node] -= min(light, Capacity.idleThreadLoad, load[lightest.node]) }
        return load
    }
}
