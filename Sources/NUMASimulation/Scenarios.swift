import NUMAModel

/// The workloads of the simulator: AutoNUMA's classic benchmarks, the
/// peers' measured cases (DESIGN.md) and a scale test. Machine by default:
/// N nodes × 4 CPUs × 8 GiB.
public enum Scenario: String, CaseIterable, Sendable, Codable {
    case numa01
    case numa01ThreadAlloc = "numa01-thread-alloc"
    case numa02
    case misplaced
    case shmGroup = "shm-group"
    case oversubscribed
    case manySmall = "many-small"

    public var defaultNodes: Int { self == .manySmall ? 8 : 2 }

    /// Sizes, as `--help` prints them.
    public var summary: String {
        switch self {
        case .numa01: "2 processes × 4 threads, 3 GiB each shared by its threads, all first-touched on node 0, threads spread"
        case .numa01ThreadAlloc: "as numa01, but each thread works on its own 768 MiB slice"
        case .numa02: "1 process, one thread per CPU, 1 GiB, each thread its own slice, all on node 0, threads spread"
        case .misplaced: "1 process × 4 threads pinned by its user to the last node, 512 MiB on node 0"
        case .shmGroup: "2 groups × 2 processes × 2 threads; each group shares a 256 MiB SysV segment, each process 32 MiB private; all on node 0, group g runs on node g"
        case .oversubscribed: "N+1 processes × 4 threads (more work than the machine), 1 GiB each on node j mod N, threads spread"
        case .manySmall: "10,000 single-thread processes of 4 MiB (less below 8 nodes), together wanting 98 % of the CPUs, a fifth running on another node than their memory; 8 nodes by default"
        }
    }

    public func build(nodes n: Int, seed: UInt64) -> SimWorld {
        var b = WorldBuilder(nodes: n)
        switch self {
        case .misplaced:
            let memory = b.ranges(bytes: 512 << 20, on: 0)
            let threads = (0..<4).map { _ in
                WorldBuilder.ThreadSpec(node: n - 1, accesses: memory, weights: b.uniform(memory))
            }
            b.process(comm: "misplaced", threads: threads, ranges: memory, pinnedTo: n - 1)
        case .numa01, .numa01ThreadAlloc:
            for j in 0..<2 {
                let memory = b.ranges(bytes: 3 << 30, on: 0)
                let slice = memory.count / 4
                let threads = (0..<4).map { i in
                    let touched = self == .numa01 ? memory : Array(memory[(i * slice)..<((i + 1) * slice)])
                    return WorldBuilder.ThreadSpec(node: (i + j) % n, accesses: touched, weights: b.uniform(touched))
                }
                b.process(comm: rawValue, threads: threads, ranges: memory)
            }
        case .numa02:
            let count = 4 * n
            let memory = b.ranges(bytes: 1 << 30, window: (1 << 30) / UInt64(count), on: 0)
            let threads = (0..<count).map { i in
                WorldBuilder.ThreadSpec(node: i % n, accesses: [memory[i]], weights: [1])
            }
            b.process(comm: "numa02", threads: threads, ranges: memory)
        case .shmGroup:
            for g in 0..<2 {
                let segment = b.object(bytes: 256 << 20, on: 0)
                for _ in 0..<2 {
                    let own = b.ranges(bytes: 32 << 20, on: 0)
                    let touched = segment.ranges + own
                    let weights = b.uniform(segment.ranges).map { $0 * 0.75 } + [0.25]
                    let threads = (0..<2).map { _ in
                        WorldBuilder.ThreadSpec(node: g % n, accesses: touched, weights: weights)
                    }
                    b.process(comm: "postgres", threads: threads, ranges: touched, objects: [segment.index])
                }
            }
        case .oversubscribed:
            for j in 0..<(n + 1) {
                let memory = b.ranges(bytes: 1 << 30, on: j % n)
                let threads = (0..<4).map { i in
                    WorldBuilder.ThreadSpec(node: (i + j) % n, accesses: memory, weights: b.uniform(memory))
                }
                b.process(comm: "oversub", threads: threads, ranges: memory)
            }
        case .manySmall:
            var random = SimRandom(seed: seed ^ 0x5EED)
            let count = 10_000
            // 4 MiB each on 8 nodes; less on fewer nodes, so memory stays within 60 % of a node.
            let perNode = (count + n - 1) / n
            let bytes = min(UInt64(4 << 20), ((8 << 30) * 6 / 10 / UInt64(perNode)) & ~UInt64(0xFFF))
            // Demand of 98 % of the machine's CPUs in all, 0.67–1.33 × the mean
            // each: nodes nearly full, so moves need swaps.
            let mean = 0.98 * Double(4 * n) / Double(count)
            for i in 0..<count {
                let home = i % n
                let memory = b.ranges(bytes: bytes, on: home)
                let misplaced = i % 5 == 4 && n > 1
                let node = misplaced ? (home + 1 + (i / n) % (n - 1)) % n : home
                let demand = mean * (0.67 + 0.66 * random.unit())
                b.process(comm: "small", threads: [.init(node: node, demand: demand, accesses: memory, weights: [1])],
                          ranges: memory)
            }
        }
        return b.world
    }

    /// The best static placement, set up by hand (numactl-style binding):
    /// what "hard bind" means in AutoNUMA's benchmarks.
    public func hardBind(_ initial: SimWorld) -> SimWorld {
        var world = initial
        let n = world.nodeCount
        switch self {
        case .misplaced:
            world.bind(process: 0, to: n - 1)
        case .numa01, .numa01ThreadAlloc:
            for j in 0..<2 { world.bind(process: j, to: j % n) }
        case .numa02:
            for t in world.processes[0].threads.indices { world.bind(thread: t, of: 0, to: t % n) }
        case .shmGroup:
            for p in world.processes.indices { world.bind(process: p, to: (p / 2) % n) }
        case .oversubscribed:
            for p in world.processes.indices { world.bind(process: p, to: p % n) }
        case .manySmall:
            for p in world.processes.indices { world.bind(process: p, to: p % n) }
        }
        return world
    }

    /// Why the balancer ends short of hard bind, when it does.
    func gapReason(mode: PlacementMode) -> String {
        switch (self, mode) {
        case (.numa02, .standalone):
            "userspace sees pages per process, not per thread: without the kernel's hint faults it cannot tell which thread touches which slice. A process bigger than a node is placed as a whole, spread over its active nodes with its memory interleaved by the 3/4 rule (about 1/N local); hard bind pins each thread beside its own slice. Hybrid mode, where the kernel places pages per thread, closes the gap."
        case (.oversubscribed, _):
            "no node has room: the engine never puts more runnable threads on a node than it has CPUs for the sake of locality, while hard bind stacks two processes on a node (local, but each thread gets half a CPU)."
        default:
            "not converged within the rounds run (two-stage filter, scan period and the MB/s budget pace the moves)."
        }
    }
}

/// The simulator's generator is the project's SplitMix64: every sample and
/// scenario replays from its seed.
public typealias SimRandom = SeededGenerator

extension SeededGenerator {
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { nextUnit() }
}
