import NUMAModel

/// A page range of the simulated machine: a window of a process's private
/// memory or of a shared object, with its bytes on each node.
public struct SimRange: Hashable, Sendable {
    public var start: UInt64
    public var bytes: UInt64
    /// Bytes on each node (index = node).
    public var onNode: [Double]
    /// The shared object it belongs to, if any.
    public var object: Int?
    /// Bytes moved into it so far, by numabalance and by the simulated kernel:
    /// more than its size means some page moved twice.
    public var movedByEngine: Double = 0
    public var movedByKernel: Double = 0

    public func share(on node: Int) -> Double { bytes > 0 ? onNode[node] / Double(bytes) : 0 }
}

/// A thread: where it runs, how much CPU it wants, which ranges it touches.
public struct SimThread: Hashable, Sendable {
    public var tid: Int32
    public var node: Int
    /// CPUs wanted, 0…1.
    public var demand: Double
    /// Ranges it accesses (world indices) with weights summing to 1: the
    /// hidden access pattern the engine never sees.
    public var accesses: [Int]
    public var weights: [Double]
    /// A per-thread binding (hard bind only).
    public var boundNode: Int?
    /// CPU seconds since the process was last sampled, and in the last round.
    public var cpuSinceSample: Double = 0
    public var cpuLastRound: Double = 0
}

public struct SimProcess: Hashable, Sendable {
    public var identity: ProcessIdentity
    public var comm: String
    public var threads: [SimThread]
    /// World indices of the ranges it maps (private ones and shared objects').
    public var ranges: [Int]
    public var objects: [Int]
    /// Nodes the affinity allows, and who set it.
    public var affinity: [Bool]
    public var affinityOwner: AffinityOwner
    public var lastSampled: Double = 0
    public var nextScan: Double = 0
    /// The simulated kernel's decayed fault counts (hybrid mode).
    public var kernelMem: [Int]
    public var kernelCPU: [Int]
    public var kernelPrivate: Int = 0
    public var kernelShared: Int = 0
}

public struct SimObject: Hashable, Sendable {
    public var info: SharedObject
    public var ranges: [Int]
}

/// The hidden truth of a simulated NUMA machine: N nodes of C CPUs and M
/// bytes, where every page and every thread really is.
public struct SimWorld: Hashable, Sendable {
    public var nodeCount: Int
    public var cpusPerNode: Int
    public var memPerNode: UInt64
    public var ranges: [SimRange] = []
    public var processes: [SimProcess] = []
    public var objects: [SimObject] = []
    /// Memory the rest of the system uses on each node.
    public var baselineUsed: UInt64 = 256 << 20

    public init(nodeCount: Int, cpusPerNode: Int, memPerNode: UInt64) {
        self.nodeCount = nodeCount
        self.cpusPerNode = cpusPerNode
        self.memPerNode = memPerNode
    }

    public func cpus(of node: Int) -> CPUSet { CPUSet((node * cpusPerNode)..<((node + 1) * cpusPerNode)) }

    /// The topology a real discovery would report, with free memory as it is now.
    public var topology: Topology {
        var used = Array(repeating: Double(baselineUsed), count: nodeCount)
        for range in ranges { for k in 0..<nodeCount { used[k] += range.onNode[k] } }
        let nodes = (0..<nodeCount).map { k in
            Node(id: NodeID(k), cpus: cpus(of: k), memTotalBytes: memPerNode,
                 memFreeBytes: UInt64(max(0, Double(memPerNode) - used[k])), highWatermarkBytes: 64 << 20)
        }
        let distances = (0..<nodeCount).map { i in (0..<nodeCount).map { $0 == i ? 10 : 20 } }
        return Topology(nodes: nodes, distances: distances)
    }

    /// Fraction of the round's memory accesses that were local: each
    /// thread's CPU time × the share of what it touches that lives on its node.
    public var locality: Double {
        var local = 0.0, total = 0.0
        for process in processes {
            for thread in process.threads where thread.cpuLastRound > 0 {
                total += thread.cpuLastRound
                local += thread.cpuLastRound * threadLocality(thread)
            }
        }
        return total > 0 ? local / total : 0
    }

    func threadLocality(_ thread: SimThread) -> Double {
        var sum = 0.0
        for (range, weight) in zip(thread.accesses, thread.weights) {
            sum += weight * ranges[range].share(on: thread.node)
        }
        return sum
    }

    /// Runnable demand on each node, in CPUs.
    public var nodeDemand: [Double] {
        var demand = Array(repeating: 0.0, count: nodeCount)
        for process in processes { for thread in process.threads { demand[thread.node] += thread.demand } }
        return demand
    }

    /// Bytes each range must move to reach `other`'s placement: the
    /// misplaced bytes when `other` is the best static placement.
    public func bytesToReach(_ other: SimWorld) -> UInt64 {
        var total = 0.0
        for (mine, theirs) in zip(ranges, other.ranges) {
            for k in 0..<nodeCount { total += max(0, theirs.onNode[k] - mine.onNode[k]) }
        }
        return UInt64(total.rounded())
    }

    /// Moves `bytes` of a range toward a target distribution (fractions per
    /// node), taking from nodes above it, giving to nodes below. Returns the
    /// bytes actually moved.
    @discardableResult
    mutating func move(range index: Int, toward target: [Double], upTo bytes: Double, byKernel: Bool = false) -> Double {
        let size = Double(ranges[index].bytes)
        var excess = 0.0
        for k in 0..<nodeCount { excess += max(0, ranges[index].onNode[k] - target[k] * size) }
        let amount = min(bytes, excess)
        guard amount > 1 else { return 0 }
        let fraction = amount / excess
        for k in 0..<nodeCount {
            let surplus = ranges[index].onNode[k] - target[k] * size
            if surplus > 0 { ranges[index].onNode[k] -= surplus * fraction }
            else if surplus < 0 { ranges[index].onNode[k] += -surplus * fraction }
        }
        if byKernel { ranges[index].movedByKernel += amount } else { ranges[index].movedByEngine += amount }
        return amount
    }
}
