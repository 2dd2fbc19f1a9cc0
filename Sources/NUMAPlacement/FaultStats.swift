import NUMAModel

/// A process's decayed NUMA statistics, one slot per node (topology
/// position): the userspace counterpart of the kernel's p->numa_faults.
///
/// - `mem[n]`: sampled pages resident on node n (in hybrid mode: the
///   kernel's memory faults on n, already decayed by the kernel);
/// - `cpu[n]`: CPU time spent on node n's CPUs, in milliseconds (in hybrid
///   mode: the kernel's CPU faults from n) — "accesses from n";
/// - `sharedMem[n]`: the part of `mem[n]` in shared memory.
public struct FaultStats: Hashable, Sendable, Codable {
    /// One buffer, `[mem | cpu | sharedMem]`, so a process's statistics are
    /// one allocation and one stretch of memory.
    private var values: [Int]
    public private(set) var nodeCount: Int

    public init(nodeCount: Int) {
        self.nodeCount = nodeCount
        values = Array(repeating: 0, count: 3 * nodeCount)
    }

    public func mem(_ node: Int) -> Int { values[node] }
    public func cpu(_ node: Int) -> Int { values[nodeCount + node] }
    public func sharedMem(_ node: Int) -> Int { values[2 * nodeCount + node] }

    public var mem: [Int] { Array(values[0..<nodeCount]) }
    public var cpu: [Int] { Array(values[nodeCount..<(2 * nodeCount)]) }
    public var sharedMem: [Int] { Array(values[(2 * nodeCount)...]) }

    /// The kernel's decay (task_numa_placement): each period the old value
    /// loses half, rounding in its favour, and the new faults are added:
    /// `new = ceil(old / 2) + this_round`.
    public static func decay(_ old: Int, adding fresh: Int) -> Int {
        (old + 1) / 2 + fresh
    }

    /// Folds one round's counts in from flat rows at `base`, decaying the old ones.
    /// (`sharedMem` may be empty: no shared page this round.)
    mutating func accumulate(mem: [Int], cpu: [Int], sharedMem: [Int], base: Int, count n: Int) {
        resize(to: n)
        let shared = !sharedMem.isEmpty
        values.withUnsafeMutableBufferPointer { v in
            for node in 0..<n {
                v[node] = Self.decay(v[node], adding: mem[base + node])
                v[n + node] = Self.decay(v[n + node], adding: cpu[base + node])
                v[2 * n + node] = Self.decay(v[2 * n + node], adding: shared ? sharedMem[base + node] : 0)
            }
        }
    }

    /// Takes statistics that are already decayed (the kernel's numa_faults in
    /// hybrid mode): decaying them again would halve them twice.
    mutating func replace(mem newMem: ArraySlice<Int>, cpu newCPU: ArraySlice<Int>,
                          sharedMem newShared: ArraySlice<Int>) {
        resize(to: newMem.count)
        values = Array(newMem) + Array(newCPU) + Array(newShared)
    }

    private mutating func resize(to count: Int) {
        guard nodeCount != count else { return }
        // The topology changed (a node went offline): start afresh.
        self = FaultStats(nodeCount: count)
    }

    public var memTotal: Int { values[0..<nodeCount].reduce(0, +) }
    public var cpuTotal: Int { values[nodeCount..<(2 * nodeCount)].reduce(0, +) }
    public var sharedTotal: Int { values[(2 * nodeCount)...].reduce(0, +) }
    public var privateTotal: Int { memTotal - sharedTotal }

    /// task_weight: the node's share of memory faults, scaled by 1000.
    public func weight(_ node: Int) -> Int {
        FaultStats.weight(of: node, in: mem)
    }

    static func weight(of node: Int, in faults: [Int]) -> Int {
        let total = faults.reduce(0, +)
        guard total > 0, node >= 0, node < faults.count else { return 0 }
        return KernelConstants.weightScale * faults[node] / total
    }

    var capacityInts: Int { values.capacity }
}
