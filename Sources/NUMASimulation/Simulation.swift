import NUMAModel
import NUMAPlacement

/// How to run a scenario.
public struct SimulationConfig: Hashable, Sendable {
    public var scenario: Scenario
    public var nodes: Int
    public var mode: PlacementMode
    public var rounds: Int
    public var seed: UInt64
    /// Seconds per round.
    public var interval: Double = 1
    /// The machine's page migration bandwidth, bytes per second.
    public var bandwidth: Double = 4 * 1024 * 1024 * 1024
    public var engine: PlacementConfig

    public init(scenario: Scenario, nodes: Int? = nil, mode: PlacementMode = .standalone, rounds: Int = 20,
                seed: UInt64 = 1, engine: PlacementConfig? = nil) {
        self.scenario = scenario
        self.nodes = nodes ?? scenario.defaultNodes
        self.mode = mode
        self.rounds = rounds
        self.seed = seed
        var config = engine ?? PlacementConfig()
        config.mode = mode
        self.engine = config
    }
}

/// Drives the real engine on a simulated machine, and the two baselines in
/// the same run.
public enum Simulation {
    public static func run(_ config: SimulationConfig) -> SimulationReport {
        let initial = config.scenario.build(nodes: config.nodes, seed: config.seed)
        let bound = config.scenario.hardBind(initial)
        var balanced = Run(world: initial, config: config, balancing: true)
        balanced.go()
        var none = Run(world: initial, config: config, balancing: false)
        none.go()
        var hard = Run(world: bound, config: config, balancing: false)
        hard.go()
        let misplaced = initial.bytesToReach(bound)
        let last = balanced.rounds.last?.locality ?? balanced.world.locality
        let engineBytes = UInt64(balanced.world.ranges.reduce(0.0) { $0 + $1.movedByEngine })
        let kernelBytes = UInt64(balanced.world.ranges.reduce(0.0) { $0 + $1.movedByKernel })
        let final = FinalReport(
            locality: last, bytesMoved: engineBytes + kernelBytes, engineBytesMoved: engineBytes,
            kernelBytesMoved: kernelBytes, misplacedBytes: misplaced,
            movedOverMisplaced: misplaced > 0 ? Double(engineBytes + kernelBytes) / Double(misplaced) : nil,
            roundsTo90: balanced.rounds.first { $0.locality >= 0.9 }?.round,
            planMillisMax: balanced.rounds.map(\.planMillis).max() ?? 0,
            maxRangeMoveRatio: balanced.world.ranges.map { ($0.movedByEngine + $0.movedByKernel) / Double(max(1, $0.bytes)) }.max() ?? 0,
            overfillingActions: balanced.overfillingActions, maxNodeLoad: balanced.maxNodeLoad,
            engineStateBytes: balanced.engine.state.footprintBytes)
        let hardLocality = hard.rounds.last?.locality ?? 0
        return SimulationReport(
            scenario: config.scenario.rawValue, mode: config.mode, nodes: config.nodes, seed: config.seed,
            rounds: balanced.rounds, final: final,
            baselines: Baselines(
                none: BaselineReport(locality: none.rounds.last?.locality ?? 0, maxNodeLoad: none.maxNodeLoad),
                hardBind: BaselineReport(locality: hardLocality, maxNodeLoad: hard.maxNodeLoad)),
            gapReason: last < hardLocality - 0.05 ? config.scenario.gapReason(mode: config.mode) : nil,
            explanations: balanced.explanations)
    }
}

/// One run of the machine: with the engine (and in hybrid mode the kernel's
/// balancer), or with nothing.
struct Run {
    var world: SimWorld
    let config: SimulationConfig
    let balancing: Bool
    var engine: PlacementEngine
    var sampler: SimSampler
    var actuator: SimActuator
    var rounds: [RoundReport] = []
    var overfillingActions = 0
    var maxNodeLoad = 0.0
    var explanations: [String] = []

    init(world: SimWorld, config: SimulationConfig, balancing: Bool) {
        self.world = world
        self.config = config
        self.balancing = balancing
        engine = PlacementEngine(config: config.engine)
        sampler = SimSampler(seed: config.seed)
        actuator = SimActuator(world: world, bandwidth: config.bandwidth)
    }

    mutating func go() {
        for round in 1...max(1, config.rounds) { step(round) }
    }

    private mutating func step(_ round: Int) {
        let now = Double(round) * config.interval
        world.schedule()
        world.run(interval: config.interval)
        var kernelMoved = 0.0
        if balancing && config.mode == .hybrid {
            kernelMoved = world.kernelBalance(interval: config.interval)
            world.updateKernelFaults()
        }
        var actions = 0, observed = 0
        var millis = 0.0
        if balancing {
            var observations: [Observation] = []
            for p in world.processes.indices where world.processes[p].nextScan <= now + 1e-9 {
                observations.append(sampler.observe(&world, process: p, now: now, mode: config.mode))
            }
            observed = observations.count
            let topology = world.topology
            let clock = ContinuousClock()
            var plan = Plan(time: now, mode: config.mode)
            let elapsed = clock.measure {
                plan = engine.plan(topology: topology, observations: observations, now: now)
            }
            millis = elapsed.inSeconds * 1000
            schedule(plan.scans)
            actions = plan.actions.count
            if explanations.count < 12 {
                explanations += plan.actions.prefix(12 - explanations.count).map {
                    "round \(round): \($0.kind) \($0.processes.map { String($0.pid) }.joined(separator: "+")): \($0.reason)"
                }
            }
            let receiving = actuator.apply(plan, to: &world)
            world.schedule()
            let demand = world.nodeDemand
            overfillingActions += receiving.filter { demand[$0] > Double(world.cpusPerNode) + 1e-9 }.count
        }
        let moved = actuator.migrate(&world, interval: config.interval)
        maxNodeLoad = max(maxNodeLoad, world.nodeDemand.map { $0 / Double(world.cpusPerNode) }.max() ?? 0)
        rounds.append(RoundReport(round: round, locality: world.locality, bytesMoved: UInt64(moved + kernelMoved),
                                  kernelBytesMoved: UInt64(kernelMoved), actions: actions, observed: observed,
                                  planMillis: millis))
    }

    private mutating func schedule(_ scans: [ScanSchedule]) {
        guard !scans.isEmpty else { return }
        var next: [ProcessIdentity: Double] = [:]
        next.reserveCapacity(scans.count)
        for scan in scans { next[scan.process] = scan.nextScan }
        for p in world.processes.indices {
            if let due = next[world.processes[p].identity] { world.processes[p].nextScan = due }
        }
    }
}
