import Foundation
import NUMAModel
@testable import NUMASimulation
import Testing

/// The simulator with fixed seeds: the engine against the scenarios'
/// baselines, as `numabalance simulate` runs them.
@Suite("Simulator")
struct SimulationTests {
    static func run(_ scenario: Scenario, mode: PlacementMode = .standalone, rounds: Int = 12) -> SimulationReport {
        Simulation.run(SimulationConfig(scenario: scenario, mode: mode, rounds: rounds, seed: 7))
    }

    @Test("reaches ≥ 90 % locality moving ≤ 1.1× the misplaced bytes",
          arguments: [Scenario.misplaced, .numa01, .numa01ThreadAlloc, .shmGroup])
    func converges(_ scenario: Scenario) {
        let report = Self.run(scenario)
        #expect(report.final.locality >= 0.9)
        #expect(report.final.misplacedBytes > 0)
        #expect(Double(report.final.bytesMoved) <= 1.1 * Double(report.final.misplacedBytes))
        #expect(report.final.roundsTo90 != nil)
        #expect(report.final.maxRangeMoveRatio <= 1.000001)
        #expect(report.final.overfillingActions == 0)
    }

    @Test("shm-group in hybrid mode: the group's segment is fixed by its policy, which the kernel leaves alone")
    func sharedSegmentHybrid() {
        let report = Self.run(.shmGroup, mode: .hybrid)
        #expect(report.final.locality >= 0.9)
        #expect(report.final.engineBytesMoved >= 256 << 20)
        #expect(Double(report.final.bytesMoved) <= 1.1 * Double(report.final.misplacedBytes))
    }

    /// In the scenario every node is over its CPUs, so no move may raise
    /// locality without overfilling a node (hard bind's way): doing nothing
    /// is right there. The positive half is a machine as oversubscribed (10
    /// threads on 8 CPUs) where a swap helps and leaves every node's load as it was.
    @Test("oversubscribed: no worse than no balancing, never overfills a node; a swap that helps is made")
    func oversubscribed() {
        let report = Self.run(.oversubscribed)
        #expect(report.final.locality >= report.baselines.none.locality - 0.005)
        #expect(report.final.overfillingActions == 0)
        #expect(report.final.maxNodeLoad <= report.baselines.none.maxNodeLoad + 1e-9)

        // 4 threads on node 1 with their memory on node 0, 4 the other way,
        // and 2 at home on node 0: node 0 runs 6 threads on 4 CPUs.
        var b = WorldBuilder(nodes: 2, cpusPerNode: 4)
        for (runs, memory, count) in [(1, 0, 4), (0, 1, 4), (0, 0, 2)] {
            let ranges = b.ranges(bytes: 256 << 20, on: memory)
            let threads = (0..<count).map { _ in
                WorldBuilder.ThreadSpec(node: runs, accesses: ranges, weights: b.uniform(ranges))
            }
            b.process(comm: "oversub", threads: threads, ranges: ranges)
        }
        var rounds = Rounds(RandomMachine(world: b.world, seed: 7))
        let before = rounds.machine.world.nodeDemand
        rounds.run(6) { _, _, _ in }
        let world = rounds.machine.world
        #expect(world.locality >= 0.95, "locality \(world.locality): the swap was not made (none: 0.2)")
        #expect(world.nodeDemand == before, "a node's load changed: \(before) → \(world.nodeDemand)")
    }

    @Test("numa02 standalone: reported beside hard bind, with the reason for the gap")
    func numa02Standalone() {
        let report = Self.run(.numa02)
        #expect(report.baselines.hardBind.locality >= 0.99)
        #expect(report.final.locality >= report.baselines.none.locality - 0.005)
        #expect(report.final.locality < report.baselines.hardBind.locality)
        #expect(report.gapReason?.contains("per thread") == true)
        // Locality cannot rise per process, but the engine still acts: the
        // memory is spread over the active nodes (the 3/4 rule), once.
        #expect(report.final.engineBytesMoved > 0, "the engine never spread numa02's memory")
        #expect(Double(report.final.engineBytesMoved) <= 1.1 * Double(report.final.misplacedBytes))
    }

    @Test("numa02 hybrid: pages are left to the kernel, none moved twice")
    func numa02Hybrid() {
        let report = Self.run(.numa02, mode: .hybrid)
        #expect(report.final.engineBytesMoved == 0)
        #expect(report.final.kernelBytesMoved > 0)
        #expect(report.final.maxRangeMoveRatio <= 1.000001)
        #expect(report.final.locality >= 0.9)
    }

    @Test("the same seed replays the same run")
    func replays() {
        let a = Self.run(.numa01, rounds: 6), b = Self.run(.numa01, rounds: 6)
        #expect(a.rounds.map(\.locality) == b.rounds.map(\.locality))
        #expect(a.rounds.map(\.bytesMoved) == b.rounds.map(\.bytesMoved))
    }

    @Test("--json has the documented keys")
    func jsonKeys() throws {
        let report = Self.run(.misplaced, rounds: 3)
        let data = try JSONEncoder().encode(report)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["scenario"] as? String == "misplaced")
        #expect(json["mode"] as? String == "standalone")
        let rounds = try #require(json["rounds"] as? [[String: Any]])
        #expect(rounds.count == 3)
        #expect(Set(["round", "locality", "bytesMoved"]).isSubset(of: Set(rounds[0].keys)))
        let final = try #require(json["final"] as? [String: Any])
        let keys: Set = ["locality", "bytesMoved", "misplacedBytes", "roundsTo90", "planMillisMax"]
        #expect(keys.isSubset(of: Set(final.keys)))
        let baselines = try #require(json["baselines"] as? [String: [String: Any]])
        #expect(baselines["none"]?["locality"] is Double)
        #expect(baselines["hardBind"]?["locality"] is Double)
    }

    @Test("misplaced bytes are what hard bind must move")
    func misplacedBytes() {
        #expect(Self.run(.misplaced, rounds: 1).final.misplacedBytes == 512 << 20)
        #expect(Self.run(.numa01, rounds: 1).final.misplacedBytes == 3 << 30)
        #expect(Self.run(.shmGroup, rounds: 1).final.misplacedBytes == 320 << 20)
    }
}
