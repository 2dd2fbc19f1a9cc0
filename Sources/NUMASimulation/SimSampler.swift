import NUMAModel

/// What the real sampler could observe of a simulated process, and nothing
/// more: page residency from K sampled addresses (multinomial noise, seeded),
/// each thread's CPU seconds since the last sample and the node it ran on,
/// its affinity and shared objects, and in hybrid mode the kernel's fault
/// counts. The access pattern stays hidden.
struct SimSampler {
    var random: SimRandom
    /// Sampled addresses per process: 1 per 256 pages, between these bounds.
    var minSamples = 64
    var maxSamples = 1024

    init(seed: UInt64) { random = SimRandom(seed: seed) }

    mutating func observe(_ world: inout SimWorld, process p: Int, now: Double, mode: PlacementMode) -> Observation {
        let process = world.processes[p]
        let n = world.nodeCount
        let total = process.ranges.reduce(UInt64(0)) { $0 + world.ranges[$1].bytes }
        let budget = min(maxSamples, max(minSamples, Int(total >> 12) / 256))
        var pagesByNode: [NodeID: Int] = [:]
        var ranges: [RangePlacement] = []
        var queried = 0
        ranges.reserveCapacity(process.ranges.count)
        for r in process.ranges {
            let range = world.ranges[r]
            let k = max(8, Int((Double(budget) * Double(range.bytes) / Double(max(1, total))).rounded()))
            var counts = Array(repeating: 0, count: n)
            for _ in 0..<k { counts[pick(range, nodes: n)] += 1 }
            var byNode: [NodeID: Int] = [:]
            for node in 0..<n where counts[node] > 0 {
                byNode[NodeID(node)] = counts[node]
                pagesByNode[NodeID(node), default: 0] += counts[node]
            }
            queried += k
            ranges.append(RangePlacement(start: range.start, end: range.start + range.bytes,
                                         sharedObject: range.object.map { world.objects[$0].info.key },
                                         pagesByNode: byNode))
        }
        let interval = max(1e-3, now - process.lastSampled)
        let threads = process.threads.map { thread in
            ThreadActivity(tid: thread.tid, cpuSeconds: thread.cpuSinceSample,
                           lastCPU: thread.node * world.cpusPerNode + Int(thread.tid) % world.cpusPerNode,
                           node: NodeID(thread.node), state: thread.demand >= 0.5 ? "R" : "S")
        }
        for t in world.processes[p].threads.indices { world.processes[p].threads[t].cpuSinceSample = 0 }
        world.processes[p].lastSampled = now
        let allowed = (0..<n).filter { process.affinity[$0] }
        let allowedCPUs = CPUSet(allowed.flatMap { world.cpus(of: $0).ids })
        return Observation(
            identity: process.identity, comm: process.comm, time: now, intervalSeconds: interval,
            pages: PagePlacement(queried: queried, pagesByNode: pagesByNode, notResident: 0, failed: 0),
            ranges: ranges, threads: threads, allowedCPUs: allowedCPUs,
            allowedNodes: (0..<n).map { NodeID($0) }, rssBytes: total, eligibleBytes: total,
            sharedObjects: process.objects.map { world.objects[$0].info },
            kernelFaults: mode == .hybrid ? kernelFaults(process) : nil,
            affinityOwner: process.affinityOwner)
    }

    /// The node of one sampled page: drawn by the range's true shares.
    private mutating func pick(_ range: SimRange, nodes n: Int) -> Int {
        var u = random.unit() * Double(range.bytes)
        for node in 0..<n {
            u -= range.onNode[node]
            if u < 0 { return node }
        }
        return (0..<n).last { range.onNode[$0] > 0 } ?? 0
    }

    private func kernelFaults(_ process: SimProcess) -> KernelFaults {
        var memory: [NodeID: UInt64] = [:]
        var cpu: [NodeID: UInt64] = [:]
        for k in process.kernelMem.indices {
            if process.kernelMem[k] > 0 { memory[NodeID(k)] = UInt64(process.kernelMem[k]) }
            if process.kernelCPU[k] > 0 { cpu[NodeID(k)] = UInt64(process.kernelCPU[k]) }
        }
        return KernelFaults(memory: memory, cpu: cpu, privateFaults: UInt64(process.kernelPrivate),
                            sharedFaults: UInt64(process.kernelShared),
                            groupID: process.objects.first.map { UInt64($0 + 1) })
    }
}
