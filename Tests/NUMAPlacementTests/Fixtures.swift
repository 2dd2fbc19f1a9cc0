import NUMAModel
@testable import NUMAPlacement

/// Small hand-made machines and observations for the rule tests.
enum Fixture {
    static let mib: UInt64 = 1 << 20
    static let gib: UInt64 = 1 << 30

    /// `nodes` × `cpus` CPUs × `memory` bytes, `free` free on each, 64 MiB high watermark.
    static func topology(nodes: Int, cpus: Int = 4, memory: UInt64 = 8 << 30, free: UInt64? = nil) -> Topology {
        let list = (0..<nodes).map { k in
            Node(id: NodeID(k), cpus: CPUSet((k * cpus)..<((k + 1) * cpus)), memTotalBytes: memory,
                 memFreeBytes: free ?? memory / 2, highWatermarkBytes: 64 << 20)
        }
        return Topology(nodes: list, distances: (0..<nodes).map { i in (0..<nodes).map { $0 == i ? 10 : 20 } })
    }

    static func cpus(of nodes: [Int], perNode: Int = 4) -> CPUSet {
        CPUSet(nodes.flatMap { k in (k * perNode)..<((k + 1) * perNode) })
    }

    /// One process: `ranges` of `rangeBytes` each with their sampled pages per
    /// node, `threads` busy threads on the given nodes.
    static func process(pid: Int32, pages: [[Int: Int]], rangeBytes: UInt64 = 64 << 20, threadNodes: [Int],
                        busy: Bool = true, allowed: CPUSet, cpuset: CPUSet? = nil,
                        owner: AffinityOwner? = .unrestricted, shared: String? = nil, time: Double = 1,
                        kernel: KernelFaults? = nil, cpusPerNode: Int = 4) -> Observation
    {
        var total: [NodeID: Int] = [:]
        var ranges: [RangePlacement] = []
        for (i, byNode) in pages.enumerated() {
            let start = 0x7f00_0000_0000 + UInt64(i) * rangeBytes
            var counts: [NodeID: Int] = [:]
            for (node, count) in byNode where count > 0 {
                counts[NodeID(node)] = count
                total[NodeID(node), default: 0] += count
            }
            ranges.append(RangePlacement(start: start, end: start + rangeBytes, sharedObject: shared,
                                         pagesByNode: counts))
        }
        let threads = threadNodes.enumerated().map { i, node in
            ThreadActivity(tid: pid * 100 + Int32(i), cpuSeconds: busy ? 1 : 0.01,
                           lastCPU: node * cpusPerNode + i % cpusPerNode, node: NodeID(node),
                           state: busy ? "R" : "S")
        }
        let bytes = rangeBytes * UInt64(pages.count)
        let objects = shared.map {
            [SharedObject(kind: .sysvShm, device: "0:1", inode: 7, path: "/SYSV\($0)", bytes: bytes)]
        } ?? []
        return Observation(
            identity: ProcessIdentity(pid: pid, startTime: 100 + UInt64(pid)), comm: "p\(pid)", time: time,
            intervalSeconds: 1,
            pages: PagePlacement(queried: total.values.reduce(0, +), pagesByNode: total, notResident: 0, failed: 0),
            ranges: ranges, threads: threads, allowedCPUs: allowed, allowedNodes: [], rssBytes: bytes,
            eligibleBytes: bytes, sharedObjects: objects, kernelFaults: kernel, cpusetCPUs: cpuset,
            affinityOwner: owner)
    }

    /// The observation again at a later time (a second sampling round).
    static func later(_ o: Observation, by seconds: Double = 1) -> Observation {
        var next = o
        next.time += seconds
        return next
    }

    static func setAffinities(_ plan: Plan) -> [SetAffinity] {
        plan.actions.compactMap { if case .setAffinity(let a) = $0 { a } else { nil } }
    }

    static func swaps(_ plan: Plan) -> [SwapProcesses] {
        plan.actions.compactMap { if case .swap(let s) = $0 { s } else { nil } }
    }

    static func memoryMoves(_ plan: Plan) -> [Action] {
        plan.actions.filter {
            switch $0 {
            case .movePages, .moveRanges, .setObjectPolicy: true
            default: false
            }
        }
    }
}
