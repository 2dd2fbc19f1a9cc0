import ArgumentParser
import NUMAModel
import NUMAProc
import NUMASampling
import NUMATopology

/// `numabalance inspect <pid>`: where a process's pages live and where its threads run.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Estimate where a process's pages live and where its threads run.",
        discussion: """
            Pages: a stratified sample of the process's eligible memory (anonymous, \
            heap, stack, shared memory; not code, libraries or special mappings) is \
            queried with move_pages(2), which reports each page's node without moving \
            it. Each node's share of the resident pages comes with a 95 % interval. \
            The cost grows with the sample, not with the process's size; --exact adds \
            the full count from /proc/PID/numa_maps, which walks every page.

            CPU: each thread's CPU time over --interval, attributed to the node of the \
            CPU it last ran on. Locality = Σ over nodes of page share × CPU share: 1.0 \
            when every access is local; null when the process used no CPU.

            Needs the kernel's ptrace read access to the process: your own processes, \
            or CAP_SYS_PTRACE for other users'.
            """
    )

    @Argument(help: "The process to inspect.")
    var pid: Int32

    @Option(name: .customLong("samples"),
            help: "Query exactly K page addresses (default: 4096, more when few are resident).")
    var samples: Int?

    @Flag(help: "Also count every page from /proc/PID/numa_maps over the same mappings.")
    var exact = false

    @Flag(help: ArgumentHelp(
        "Sample hugetlb mappings too (MAP_HUGETLB, hugetlbfs files), as a policy's sampling.hugetlb: true does.",
        discussion: "Skipped by default, as the kernel's own scanner skips them; with --exact their huge pages are counted in base pages."))
    var hugetlb = false

    @Option(help: "Seconds over which threads' CPU time is measured.")
    var interval = 0.5

    @Option(help: "Seed of the address sample (the same seed draws the same addresses).")
    var seed: UInt64 = 0x5EED

    @Flag(help: ArgumentHelp(
        "Also report which sampled pages were written in the interval (soft-dirty bits).",
        discussion: "Clearing the bits walks the process's page tables (a cost that grows with its size) and needs write access to /proc/PID/clear_refs."))
    var trackWrites = false

    @Option(name: .customLong("repeat"), help: "Sample N rounds, each with the next seed, one report (or JSON line) per round.")
    var rounds: Int = 1

    @Option(help: "Seconds between repeated rounds (CPU time is then measured between rounds).")
    var every = 0.0

    @Flag(help: "Print JSON: pid, samples, locality, nodes[{id,pageShare,ci95,cpuShare,exactPageShare}].")
    var json = false

    func validate() throws {
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
        guard interval > 0, interval <= 60 else {
            throw ValidationError("--interval must be between 0 and 60 seconds")
        }
        guard (1...100_000).contains(rounds) else { throw ValidationError("--repeat must be 1 to 100000") }
        guard every >= 0 else { throw ValidationError("--every must not be negative") }
    }

    func run() async throws {
        guard pid > 0 else { throw CommandError("no process with pid \(pid)") }
        let topology: Topology
        do { topology = try TopologyReader().read() } catch {
            throw CommandError("cannot read the NUMA topology: \(error)")
        }
        var options = SamplingOptions()
        if let samples {
            options.initialSamples = samples
            options.fixedSampleCount = true
        }
        options.cpuInterval = .milliseconds(Int64(interval * 1000))
        options.seed = seed
        options.readHugePages = true
        options.trackWrites = trackWrites
        options.hugetlb = hugetlb
        // A one-shot look can afford more than the daemon's per-round budget.
        options.budgetSeconds = 0.25
        // Rounds run on the sampler thread pinned to the process's node.
        let pool: SamplerPool
        do { pool = try SamplerPool(sampler: ProcessSampler(topology: topology)) } catch {
            throw CommandError(error.description)
        }
        defer { pool.stop() }
        for round in 0..<rounds {
            if round > 0, every > 0 { try await Task.sleep(for: .milliseconds(Int64(every * 1000))) }
            options.seed = seed &+ UInt64(round)
            let report: SamplingReport
            switch await pool.observe(pid: pid, options: options) {
            case .observed(let observed, _): report = observed
            case .failed(_, let error, _): throw CommandError(error.description)
            }
            let exactShares = exact ? try exactPageShares() : nil
            let result = InspectResult(report: report, topology: topology, exactShares: exactShares)
            if json {
                try Output.printJSON(result)
            } else {
                print((round > 0 ? "\n" : "") + result.text(report: report))
            }
        }
    }

    /// Shares per node counted from numa_maps over the sampler's eligible mappings.
    private func exactPageShares() throws -> [NodeID: Double] {
        let procfs = ProcFS()
        do {
            let counts = exactPagesByNode(maps: try procfs.maps(pid), numaMaps: try procfs.numaMaps(pid), hugetlb: hugetlb)
            let total = Double(counts.values.reduce(0, +))
            guard total > 0 else { return [:] }
            return counts.mapValues { Double($0) / total }
        } catch {
            throw CommandError("--exact: \(error)")
        }
    }
}
