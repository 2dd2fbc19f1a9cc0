import ArgumentParser
import Foundation
import NUMAModel
import NUMASimulation

/// `numabalance simulate`: the real engine on a simulated NUMA machine, with
/// the two baselines (no balancing, hard bind) computed in the same run.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the placement engine on a simulated NUMA machine.",
        discussion: """
            The machine is N nodes × 4 CPUs × 8 GiB. The engine sees only what the real \
            sampler can observe (sampled page residency, per-thread CPU time and node, and \
            in hybrid mode the kernel's fault counts), never the hidden access pattern. \
            Locality is the fraction of memory accesses that are local. Each round \
            prints locality and bytes moved; the end compares against two baselines run \
            from the same start: no balancing, and hard bind (the best static placement, \
            whose page moves are the "misplaced bytes").

            --json keys: scenario, mode, nodes, seed, rounds [{round, locality, \
            bytesMoved, kernelBytesMoved, actions, observed, planMillis}], final \
            {locality, bytesMoved, engineBytesMoved, kernelBytesMoved, misplacedBytes, \
            movedOverMisplaced, roundsTo90, planMillisMax, maxRangeMoveRatio, \
            overfillingActions, maxNodeLoad, engineStateBytes}, baselines {none, \
            hardBind} (each {locality, maxNodeLoad}), gapReason, explanations.

            Scenarios:
            \(Scenario.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))
            """
    )

    @Argument(help: "The scenario: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenario: String

    @Option(help: "Nodes of the simulated machine (default 2; 8 for many-small).")
    var nodes: Int?

    @Option(help: "standalone (numabalance places pages too) or hybrid (the kernel places pages).")
    var mode: String = PlacementMode.standalone.rawValue

    @Option(help: "Rounds of one second.")
    var rounds: Int = 20

    @Option(help: "Seed of the sampling noise and of the workload.")
    var seed: UInt64 = 1

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard Scenario(rawValue: scenario) != nil else {
            throw ValidationError("unknown scenario '\(scenario)'; one of: \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard PlacementMode(rawValue: mode) != nil else { throw ValidationError("--mode is standalone or hybrid") }
        if let nodes, !(1...64).contains(nodes) { throw ValidationError("--nodes must be 1…64") }
        guard (1...10_000).contains(rounds) else { throw ValidationError("--rounds must be 1…10000") }
    }

    func run() async throws {
        guard let scenario = Scenario(rawValue: scenario), let mode = PlacementMode(rawValue: mode) else { return }
        let report = Simulation.run(SimulationConfig(scenario: scenario, nodes: nodes, mode: mode, rounds: rounds,
                                                     seed: seed))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(SimulationText.render(report))
        }
    }
}
