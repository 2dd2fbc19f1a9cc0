import ArgumentParser
import Foundation
import NUMAModel
import NUMAProc
import NUMASampling
import NUMASystem
import NUMATopology

/// `numabalance bench-sampler`: the cost of a sampling round that meets
/// ±2 pp, beside the cost of one full numa_maps read, measured in the same run.
public struct BenchSamplerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench-sampler",
        abstract: "Benchmark a sampling round against a full numa_maps read (run a release build).",
        discussion: """
            For each size, starts `numa-workload split` with that much memory spread \
            over the nodes with memory, then times (best of --repeats) one full read \
            of /proc/PID/numa_maps — numad's way — and one numabalance sampling round \
            that reaches ±2 percentage points at 95 %, and prints the ratio, the mix \
            of random pages and runs the sampler chose, and its error against numa_maps. \
            Then it samples --processes small processes in one round through the \
            per-node sampler threads and reports the CPU it took. On a machine with one \
            node every page is on it: the round stops at its pilot and its error is 0 \
            whatever the sampler answers, so only the costs are printed there.
            """,
        shouldDisplay: false
    )

    @Option(parsing: .upToNextOption, help: "Workload sizes in GiB.")
    var sizes: [Double] = [1, 4, 16]

    @Option(help: "Timings per method; the best is kept.")
    var repeats = 5

    @Option(help: "Small processes sampled in one round for the CPU figure (0 to skip).")
    var processes = 1000

    @Option(help: ArgumentHelp("Instead: this many rounds over --steady processes and --churn ones that come and go, "
                               + "printing the resident size (`rss ROUND KIB REMEMBERED`).", valueName: "rounds"))
    var memoryRounds = 0

    @Option(help: "With --memory-rounds: processes sampled every round.")
    var steady = 4

    @Option(help: "With --memory-rounds: processes started and ended over the run.")
    var churn = 1000

    public func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard memoryRounds >= 0, steady >= 0, churn >= 0 else {
            throw ValidationError("--memory-rounds, --steady and --churn are counts (0 or more)")
        }
        guard sizes.allSatisfy({ $0 > 0 && $0 <= 1024 }) else { throw ValidationError("sizes are 0–1024 GiB") }
    }

    public init() {}

    public func run() async throws {
        let topology = try TopologyReader().read()
        let sampler = ProcessSampler(topology: topology)
        if memoryRounds > 0 {
            return try await SamplerMemoryRounds(rounds: memoryRounds, steady: steady, churn: churn).run(sampler: sampler)
        }
        // On one node every share is 1: the pilot already meets ±2 pp, and
        // a sampler that always answers node 0 would show no error.
        let split = topology.nodes.filter(\.hasMemory).count > 1
        if !split {
            print("one node: accuracy and round size not meaningful here (every page is on node 0, so a round is its pilot "
                  + "and has no error to show); for a real 50/50 split run Tests/Benchmarks/sampler --lab 2x2")
        }
        print("pages = maps read + move_pages (the page side of a round); round = all of it (+ status, threads' stat, cpuset)")
        print("size      numa_maps   pages      ratio    round      ratio    sampled  mix                     pages/s/thread  max error  ci95")
        for size in sizes {
            let row = try measure(gib: size, topology: topology, sampler: sampler, split: split)
            print(row)
        }
        if processes > 0 {
            print(try await manyProcesses(sampler: sampler))
        }
    }

    private func measure(gib: Double, topology: Topology, sampler: ProcessSampler, split: Bool) throws -> String {
        let memoryNodes = topology.nodes.filter(\.hasMemory).map(\.id)
        let share = memoryNodes.map { "\($0):\(1.0 / Double(memoryNodes.count))" }.joined(separator: ",")
        let workload = try WorkloadProcess(arguments: [
            "split", "--mib", "\(Int(gib * 1024))", "--share", share, "--idle",
        ])
        defer { workload.stop() }
        let pid = workload.pid
        let procfs = ProcFS()

        var numaMapsBest = Double.infinity
        var truth: [NodeID: UInt64] = [:]
        for _ in 0..<repeats {
            let start = Clock.monotonicSeconds()
            let entries = try procfs.numaMaps(pid)
            numaMapsBest = min(numaMapsBest, Clock.monotonicSeconds() - start)
            truth = exactPagesByNode(maps: try procfs.maps(pid), numaMaps: entries)
        }
        var roundBest = Double.infinity
        var pagesBest = Double.infinity
        var best: SamplingReport?
        var options = SamplingOptions()
        options.cpuInterval = .zero
        for attempt in 0..<repeats {
            options.seed = UInt64(attempt + 1)
            let start = Clock.monotonicSeconds()
            let report = try sampler.observe(pid: pid, options: options)
            let elapsed = Clock.monotonicSeconds() - start
            if elapsed < roundBest { roundBest = elapsed; best = report }
            pagesBest = min(pagesBest, report.mapsSeconds + report.probeSeconds)
            // The next round knows this one's design effect, as the daemon's would.
            options.previousDesignEffect = report.observation.pages.designEffect
        }
        guard let best else { throw BenchError("no sampling round completed") }
        let total = Double(truth.values.reduce(0, +))
        let pages = best.observation.pages
        let error = topology.nodeIDs.map { abs((pages.share(of: $0) ?? 0) - Double(truth[$0] ?? 0) / max(total, 1)) }.max() ?? 0
        let ci = topology.nodeIDs.compactMap { pages.ci95(of: $0) }.max() ?? 0
        let rate = Double(pages.queried) / max(best.probeSeconds, 1e-9)
        let accuracy = split ? String(format: "%6.2f pp  %5.2f pp", error * 100, ci * 100) : "     —         —"
        return String(format: "%-9@ %8.2f ms %7.3f ms %6.2f %%  %7.3f ms %6.2f %%  %7d  %-23@ %12.0f  %@",
                      "\(gib) GiB", numaMapsBest * 1000, pagesBest * 1000, 100 * pagesBest / numaMapsBest,
                      roundBest * 1000, 100 * roundBest / numaMapsBest, pages.queried,
                      best.design.description, rate, accuracy)
    }

    /// One round over many small processes through the pool: CPU and wall time.
    private func manyProcesses(sampler: ProcessSampler) async throws -> String {
        var children: [SpawnedChild] = []
        defer { children.forEach { $0.stop() } }
        for _ in 0..<processes { children.append(try SpawnedChild("/bin/sleep", ["600"])) }
        let pool = try SamplerPool(sampler: sampler)
        defer { pool.stop() }
        var roundOptions = SamplingOptions()
        roundOptions.cpuInterval = .zero
        let options = roundOptions
        let cpuStart = Clock.processCPUSeconds()
        let wallStart = Clock.monotonicSeconds()
        let observed = await SamplerPool.observedCount(pool, pids: children.map(\.pid), options: options)
        let cpu = Clock.processCPUSeconds() - cpuStart
        let wall = Clock.monotonicSeconds() - wallStart
        return String(format: "\n%d small processes (sleep), one round through %d sampler threads: "
                      + "%d observed, CPU %.1f ms (%.3f ms each), wall %.1f ms",
                      processes, pool.samplers.count, observed, cpu * 1000, cpu * 1000 / Double(max(observed, 1)),
                      wall * 1000)
    }
}

extension SamplerPool {
    /// One round over `pids`, all submitted at once (each to its node's
    /// sampler): how many were observed (the rest failed, exited ones among them).
    static func observedCount(_ pool: SamplerPool, pids: [Int32], options: SamplingOptions) async -> Int {
        await withTaskGroup(of: Bool.self) { group -> Int in
            for pid in pids {
                group.addTask {
                    if case .observed = await pool.observe(pid: pid, options: options) { return true }
                    return false
                }
            }
            var observed = 0
            for await ok in group where ok { observed += 1 }
            return observed
        }
    }
}
