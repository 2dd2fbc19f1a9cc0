import ArgumentParser
import Foundation
import NUMAModel
import NUMAPlacement
import NUMASimulation
import NUMASystem

/// `numabalance bench-engine`: how long the engine takes to plan for the
/// many-small machine (10,000 processes on 8 nodes, a fifth misplaced,
/// swaps considered) against the 10 ms goal, beside a baseline measured in
/// the same run: the same plan with swaps turned off.
public struct BenchEngineCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Time the placement engine on 10,000 processes (goal: ≤ 10 ms per plan).",
        discussion: """
            Each iteration makes a fresh engine, shows it the machine once with every \
            process local (so it knows them all), then times the plan for the round in \
            which a fifth of them run away from their memory. The baseline is the same \
            plan with swaps turned off; the ratio is what considering swaps costs. Build \
            with -c release for meaningful figures.
            """,
        shouldDisplay: false
    )

    @Option(help: "Nodes of the machine.")
    var nodes: Int = 8

    @Option(help: "Timed plans per variant.")
    var iterations: Int = 15

    @Option(help: "Seed of the workload and the sampling.")
    var seed: UInt64 = 1

    @Flag(help: "Print the figures as JSON.")
    var json = false

    public func validate() throws {
        guard (2...64).contains(nodes) else { throw ValidationError("--nodes must be 2…64") }
        guard (1...1000).contains(iterations) else { throw ValidationError("--iterations must be 1…1000") }
    }

    public init() {}

    public func run() async throws {
        let rssBefore = ResidentMemory.current()
        let workload = EngineWorkload.manySmall(nodes: nodes, seed: seed)
        let rssInputs = ResidentMemory.current()
        let withSwaps = EngineTiming.measure(workload, swaps: true, iterations: iterations)
        let withoutSwaps = EngineTiming.measure(workload, swaps: false, iterations: iterations)
        let rssAfter = ResidentMemory.current()
        let result = BenchEngineResult(
            processes: workload.misplaced.count, nodes: nodes, goalMillis: 10,
            effect: PlanEffect(of: withSwaps.plan, nodes: nodes, seed: seed),
            planMillis: withSwaps.summary, planCPUMillis: withSwaps.cpu, noSwapMillis: withoutSwaps.summary,
            coldMillis: withSwaps.cold, ratio: withSwaps.summary.median / max(1e-9, withoutSwaps.summary.median),
            actions: withSwaps.actions, swaps: withSwaps.swaps, stateBytes: withSwaps.stateBytes,
            stateBytesPerProcess: withSwaps.stateBytes / max(1, workload.misplaced.count),
            inputBytes: rssInputs.map { r in rssBefore.map { r - $0 } ?? 0 },
            rssGrowthBytes: rssAfter.map { a in rssInputs.map { a - $0 } ?? 0 },
            loadAverage: LoadAverage.current())
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(result.text)
        }
        // A fast empty plan is no result: the run fails, and says why.
        if !result.planIsWhole { throw ExitCode(1) }
    }
}

/// Times of one variant, in milliseconds.
struct TimingSummary: Codable {
    var median: Double
    var p90: Double
    var min: Double
    var max: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        p90 = sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * 0.9))]
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}

enum EngineTiming {
    struct Outcome {
        var summary: TimingSummary
        var cpu: TimingSummary
        var cold: TimingSummary
        var actions: Int
        var swaps: Int
        var stateBytes: Int
        /// The last timed plan, to carry out on the simulator.
        var plan: Plan
    }

    static func measure(_ workload: EngineWorkload, swaps: Bool, iterations: Int) -> Outcome {
        var config = PlacementConfig()
        config.swapsEnabled = swaps
        var times: [Double] = [], cold: [Double] = [], cpu: [Double] = []
        var last = Plan(time: 0, mode: .standalone)
        var stateBytes = 0
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            var engine = PlacementEngine(config: config)
            cold.append(millis(clock.measure {
                _ = engine.plan(topology: workload.topology, observations: workload.warm, now: 1)
            }))
            let cpuStart = threadCPUMillis()
            times.append(millis(clock.measure {
                last = engine.plan(topology: workload.topology, observations: workload.misplaced, now: 2)
            }))
            cpu.append(threadCPUMillis() - cpuStart)
            stateBytes = engine.state.footprintBytes
        }
        let swapCount = last.actions.filter { if case .swap = $0 { true } else { false } }.count
        return Outcome(summary: TimingSummary(times), cpu: TimingSummary(cpu), cold: TimingSummary(cold),
                       actions: last.actions.count,
                       swaps: swapCount, stateBytes: stateBytes, plan: last)
    }

    /// CPU time of the calling thread: what the plan cost, whatever else
    /// the machine was doing meanwhile.
    static func threadCPUMillis() -> Double {
        Clock.threadCPUSeconds() * 1000
    }

    static func millis(_ duration: Duration) -> Double {
        duration.inSeconds * 1000
    }
}

struct BenchEngineResult: Codable {
    var processes: Int
    var nodes: Int
    var goalMillis: Double
    /// The timed plan carried out: locality before and after.
    var effect: PlanEffect
    var planMillis: TimingSummary
    /// The same plans in CPU time of the planning thread.
    var planCPUMillis: TimingSummary
    var noSwapMillis: TimingSummary
    var coldMillis: TimingSummary
    /// Plan time with swaps ÷ without: the cost of considering swaps.
    var ratio: Double
    var actions: Int
    var swaps: Int
    var stateBytes: Int
    var stateBytesPerProcess: Int
    var inputBytes: Int?
    var rssGrowthBytes: Int?
    /// /proc/loadavg's one-minute figure when the run ended: a loaded
    /// machine stretches wall times.
    var loadAverage: Double?

    /// The plan acts on at least 9 in 10 of the misplaced processes: else its
    /// time says nothing (an engine that plans nothing is fast).
    var planIsWhole: Bool { Double(actions) >= 0.9 * Double(effect.misplacedProcesses) }

    var text: String {
        func ms(_ v: Double) -> String { "\((v * 100).rounded() / 100) ms" }
        let verdict = !planIsWhole ? "missed: the plan has \(actions) actions for \(effect.misplacedProcesses) misplaced processes"
            : planMillis.median <= goalMillis ? "met" : "NOT met"
        func loc(_ v: Double) -> String { String(format: "%.3f", v) }
        return """
            engine plan time, many-small: \(processes) processes on \(nodes) nodes, a fifth misplaced, swaps considered
              plan with swaps      median \(ms(planMillis.median))  min \(ms(planMillis.min))  p90 \(ms(planMillis.p90))  max \(ms(planMillis.max))   goal ≤ \(ms(goalMillis)) (median): \(verdict)
              (CPU time            median \(ms(planCPUMillis.median))  p90 \(ms(planCPUMillis.p90)); load average \(loadAverage.map { "\($0)" } ?? "unknown"))
              same plan, no swaps  median \(ms(noSwapMillis.median))  min \(ms(noSwapMillis.min))  p90 \(ms(noSwapMillis.p90))   (baseline, same run)
              ratio \((ratio * 100).rounded() / 100): what considering swaps costs over the same plan without them
              the plan: \(actions) actions, \(swaps) of them swaps, for \(effect.misplacedProcesses) misplaced processes
              carried out on the simulator: locality \(loc(effect.localityBefore)) before, \(loc(effect.localityAfter)) after \
            (hard bind \(loc(effect.localityHardBind))); \(ByteCount.short(effect.bytesMoved)) of pages moved
              deferred: \(effect.deferred.isEmpty ? "none" : effect.deferred.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
              first round (state created for every process): median \(ms(coldMillis.median))
              engine memory: state \(ByteCount.short(UInt64(stateBytes))), \(stateBytesPerProcess) B per process; \
            resident growth while planning \(rssGrowthBytes.map { ByteCount.short(UInt64(Swift.max(0, $0))) } ?? "unknown") \
            (inputs: \(inputBytes.map { ByteCount.short(UInt64(Swift.max(0, $0))) } ?? "unknown"))
            """
    }
}

/// The one-minute load average, from /proc/loadavg.
enum LoadAverage {
    static func current() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }
}

/// VmRSS of this process, from /proc/self/status; nil where there is none.
enum ResidentMemory {
    static func current() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return digits.map { $0 * 1024 }
        }
        return nil
    }
}
