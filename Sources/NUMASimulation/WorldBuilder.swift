import NUMAModel

/// Builds simulated worlds: processes with identities, threads with access
/// patterns, memory in 64 MiB windows placed where it was first touched.
struct WorldBuilder {
    private(set) var world: SimWorld
    private var nextPid: Int32 = 1000
    private var nextAddress: UInt64 = 0x7f00_0000_0000

    static let window: UInt64 = 64 << 20

    init(nodes: Int, cpusPerNode: Int = 4, memPerNode: UInt64 = 8 << 30) {
        world = SimWorld(nodeCount: nodes, cpusPerNode: cpusPerNode, memPerNode: memPerNode)
    }

    /// Ranges of `bytes` in windows of at most `window`, all on `node`.
    mutating func ranges(bytes: UInt64, window: UInt64 = Self.window, on node: Int, object: Int? = nil) -> [Int] {
        var indices: [Int] = []
        var left = bytes
        while left > 0 {
            let size = min(window, left)
            var onNode = Array(repeating: 0.0, count: world.nodeCount)
            onNode[node] = Double(size)
            world.ranges.append(SimRange(start: nextAddress, bytes: size, onNode: onNode, object: object))
            indices.append(world.ranges.count - 1)
            nextAddress += (size + 0xFFFF) & ~UInt64(0xFFFF)
            left -= size
        }
        return indices
    }

    /// A SysV-style shared segment of `bytes` on `node`.
    mutating func object(bytes: UInt64, on node: Int) -> (index: Int, ranges: [Int]) {
        let index = world.objects.count
        let ranges = ranges(bytes: bytes, on: node, object: index)
        let info = SharedObject(kind: .sysvShm, device: "0:1", inode: UInt64(32768 + index),
                                path: "/SYSV\(String(0x5000 + index, radix: 16)) (deleted)", bytes: bytes)
        world.objects.append(SimObject(info: info, ranges: ranges))
        return (index, ranges)
    }

    /// Moves a range's pages to `node` (a second first-touch node).
    mutating func place(_ range: Int, on node: Int) { world.place(range: range, on: node) }

    /// Access weights over ranges in proportion to their sizes.
    func uniform(_ ranges: [Int]) -> [Double] {
        let total = ranges.reduce(0.0) { $0 + Double(world.ranges[$1].bytes) }
        return ranges.map { Double(world.ranges[$0].bytes) / total }
    }

    struct ThreadSpec {
        var node: Int
        var demand: Double = 1
        var accesses: [Int]
        var weights: [Double]
    }

    @discardableResult
    mutating func process(comm: String, threads: [ThreadSpec], ranges: [Int], objects: [Int] = [],
                          pinnedTo pin: Int? = nil) -> Int
    {
        let pid = nextPid
        nextPid += 1
        var affinity = Array(repeating: true, count: world.nodeCount)
        if let pin { affinity = (0..<world.nodeCount).map { $0 == pin } }
        let simThreads = threads.enumerated().map { i, spec in
            SimThread(tid: pid * 1000 + Int32(i), node: spec.node, demand: spec.demand, accesses: spec.accesses,
                      weights: spec.weights)
        }
        let zeros = Array(repeating: 0, count: world.nodeCount)
        world.processes.append(SimProcess(
            identity: ProcessIdentity(pid: pid, startTime: 5000 + UInt64(pid)), comm: comm,
            threads: simThreads, ranges: ranges, objects: objects, affinity: affinity,
            affinityOwner: pin == nil ? .unrestricted : .user, kernelMem: zeros, kernelCPU: zeros))
        return world.processes.count - 1
    }
}

extension SimWorld {
    /// Binds a whole process to `node`, its memory with it (numactl
    /// --cpunodebind=N --membind=N): how hard bind places a process.
    mutating func bind(process p: Int, to node: Int) {
        processes[p].affinity = (0..<nodeCount).map { $0 == node }
        processes[p].affinityOwner = .user
        for t in processes[p].threads.indices { processes[p].threads[t].node = node }
        for r in processes[p].ranges { place(range: r, on: node) }
    }

    /// Binds one thread to `node`, with the ranges only it touches.
    mutating func bind(thread t: Int, of p: Int, to node: Int) {
        processes[p].threads[t].boundNode = node
        processes[p].threads[t].node = node
        for r in processes[p].threads[t].accesses { place(range: r, on: node) }
    }

    mutating func place(range r: Int, on node: Int) {
        var onNode = Array(repeating: 0.0, count: nodeCount)
        onNode[node] = Double(ranges[r].bytes)
        ranges[r].onNode = onNode
    }
}
