import NUMAModel

/// One round's observations turned into flat per-node rows (process p, node
/// k at `p * nodeCount + k`): no dictionary and no allocation per process in
/// the loops that follow. Processes are in identity order, whatever the
/// order they came in, so the plan depends only on what was observed.
struct RoundInput {
    let nodeCount: Int
    let observations: [Observation]
    /// Observation index of each process, in identity order.
    let order: Rows<ProcessIndex, Int>
    var count: Int { order.count }
    var processes: IndexRange<ProcessIndex> { order.indices }

    /// Sampled resident pages per node (hybrid: the kernel's memory faults).
    private(set) var pages: NodeRows<ProcessIndex, Int>
    /// Empty until the first shared page: most rounds have none.
    private(set) var sharedPages: NodeRows<ProcessIndex, Int>
    /// CPU milliseconds per node this round (hybrid: the kernel's CPU faults).
    private(set) var cpuMillis: NodeRows<ProcessIndex, Int>
    /// CPU milliseconds per node this round as measured from the threads, in
    /// both modes: where accesses come from now (the kernel's CPU faults are
    /// a decayed history, and none at all where it has not scanned).
    private(set) var threadMillis: NodeRows<ProcessIndex, Int>
    /// Runnable load per node, milli-CPUs.
    private(set) var load: NodeRows<ProcessIndex, Int>
    /// Estimated resident bytes per node.
    private(set) var bytes: NodeRows<ProcessIndex, UInt64>

    private(set) var totalLoad: Rows<ProcessIndex, Int>
    private(set) var samples: Rows<ProcessIndex, Int>
    private(set) var sharedSamples: Rows<ProcessIndex, Int>
    /// Page share × CPU share, this round; nil without CPU time or samples.
    private(set) var locality: Rows<ProcessIndex, Double?>
    /// Nodes the cgroup's cpuset lets threads run on, and Mems_allowed.
    private(set) var threadNodes: Rows<ProcessIndex, NodeMask>
    private(set) var memoryNodes: Rows<ProcessIndex, NodeMask>
    /// Nodes of the current affinity, and who set it.
    private(set) var affinityNodes: Rows<ProcessIndex, NodeMask>
    private(set) var userPinned: Rows<ProcessIndex, Bool>
    /// Whether the kernel's fault statistics replace the sampled ones.
    private(set) var usesKernelFaults: Rows<ProcessIndex, Bool>
    /// Processes with something that may group them (shared objects, a
    /// policy hint, a kernel numa_group): the only ones grouping looks at.
    private(set) var groupable: [ProcessIndex] = []

    init(observations: [Observation], nodes: NodeTable, mode: PlacementMode,
         engineAffinity: (ProcessIdentity) -> CPUSet?)
    {
        let n = nodes.count
        nodeCount = n
        self.observations = observations
        // Sort keys gathered first: comparing inside 10,000 observations
        // would miss the cache at every step.
        let keys = observations.map { (UInt32(bitPattern: $0.identity.pid), $0.identity.startTime) }
        order = Rows(keys.indices.sorted { keys[$0] < keys[$1] })
        let count = order.count
        pages = NodeRows(repeating: 0, rows: count, nodeCount: n)
        // Each its own buffer: sharing one would copy it at the first write.
        sharedPages = NodeRows(repeating: 0, rows: 0, nodeCount: n)
        cpuMillis = NodeRows(repeating: 0, rows: count, nodeCount: n)
        threadMillis = cpuMillis
        load = NodeRows(repeating: 0, rows: count, nodeCount: n)
        bytes = NodeRows(repeating: 0, rows: count, nodeCount: n)
        // Sized once and filled by index: no append per process.
        totalLoad = Rows(repeating: 0, count: count)
        samples = Rows(repeating: 0, count: count)
        sharedSamples = Rows(repeating: 0, count: count)
        locality = Rows(repeating: nil, count: count)
        threadNodes = Rows(repeating: NodeMask(), count: count)
        memoryNodes = Rows(repeating: NodeMask(), count: count)
        affinityNodes = Rows(repeating: NodeMask(), count: count)
        userPinned = Rows(repeating: false, count: count)
        usesKernelFaults = Rows(repeating: false, count: count)
        var masks = MaskCache(nodes: nodes)
        // A local copy of the array: its elements are then passed borrowed,
        // not copied field by field for the mutating call.
        let all = observations
        for p in order.indices {
            fill(process: p, index: order[p], of: all, nodes: nodes, mode: mode, masks: &masks,
                 engineAffinity: engineAffinity)
        }
    }

    /// Reads one observation's fields in place (`all[index].field`): copying
    /// the whole observation would retain and release every field of it.
    private mutating func fill(process p: ProcessIndex, index o: Int, of all: [Observation], nodes: NodeTable,
                               mode: PlacementMode, masks: inout MaskCache,
                               engineAffinity: (ProcessIdentity) -> CPUSet?)
    {
        var sampled = 0
        for (id, count) in all[o].pages.pagesByNode {
            if let k = nodes.position(of: id) { pages[p, k] += count; sampled += count }
        }
        // (Rounding by + 0.5: no libm call per thread; CPU times are never negative.)
        var shared = 0
        var sharesMemory = false
        // (`if case .some` rather than `!= nil`: the latter compares strings here.)
        for r in all[o].ranges.indices {
            guard case .some = all[o].ranges[r].sharedObject else { continue }
            sharesMemory = true
            allocateSharedPages()
            for (id, count) in all[o].ranges[r].pagesByNode {
                if let k = nodes.position(of: id) { sharedPages[p, k] += count; shared += count }
            }
        }
        var hinted = false
        if case .some = all[o].groupHint { hinted = true }
        if case .some = all[o].kernelFaults?.groupID { hinted = true }
        if sharesMemory || hinted || !all[o].sharedObjects.isEmpty { groupable.append(p) }
        var processLoad = 0
        var light = 0, lightNode: NodeIndex?, lightMost = 0
        let interval = all[o].intervalSeconds
        for t in all[o].threads.indices {
            guard let id = all[o].threads[t].node, let k = nodes.position(of: id) else { continue }
            let seconds = all[o].threads[t].cpuSeconds
            cpuMillis[p, k] += Int(seconds * 1000 + 0.5)
            threadMillis[p, k] += Int(seconds * 1000 + 0.5)
            let runnable = Capacity.runnableLoad(cpuSeconds: seconds, intervalSeconds: interval,
                                                 state: all[o].threads[t].state)
            load[p, k] += runnable
            processLoad += runnable
            if runnable < Capacity.idleThreadLoad {
                light += runnable
                if runnable > lightMost { lightMost = runnable; lightNode = k }
            }
        }
        // Light threads beside busy ones: one light thread's worth is forgiven
        // (Capacity.lightLoad), taken from the node of the busiest light one.
        let forgiven = light - Capacity.lightLoad(light, besideBusy: processLoad > light)
        if forgiven > 0, let lightNode {
            let cut = min(forgiven, load[p, lightNode])
            load[p, lightNode] -= cut
            processLoad -= cut
        }
        // Locality from what the sampler saw, before any kernel statistics replace the rows.
        locality[p] = localityOfRows(p)
        let resident = all[o].residentBytes
        if sampled > 0 {
            let perSample = Double(resident) / Double(sampled)
            for k in nodes.all where pages[p, k] > 0 { bytes[p, k] = UInt64(perSample * Double(pages[p, k])) }
        }
        let usesKernel = mode == .hybrid && all[o].kernelFaults != nil
        if usesKernel, let kernel = all[o].kernelFaults {
            (sampled, shared) = takeKernelFaults(kernel, process: p, nodes: nodes)
        }
        usesKernelFaults[p] = usesKernel
        totalLoad[p] = processLoad
        samples[p] = sampled
        sharedSamples[p] = shared
        let cpuset = all[o].cpusetCPUs.map { masks.nodes(of: $0) } ?? nodes.cpuNodes
        threadNodes[p] = cpuset.intersection(nodes.cpuNodes)
        memoryNodes[p] = all[o].allowedNodes.isEmpty ? nodes.memoryNodes : masks.nodes(of: all[o].allowedNodes)
        var affinity = masks.nodes(of: all[o].allowedCPUs)
        for other in all[o].threadAffinities { affinity.formUnion(masks.nodes(of: other)) }
        affinityNodes[p] = affinity
        // The caller's judgement (the daemon's journal) when given, else the
        // same rule with the engine's own pins standing in for the journal.
        let owner = all[o].affinityOwner ?? PinOwnership.owner(
            affinities: all[o].affinities, cpuset: all[o].cpusetCPUs, own: engineAffinity(all[o].identity),
            topology: nodes.topology)
        userPinned[p] = owner == .user
    }

    /// Hybrid mode: the kernel's per-node faults replace the sampled rows.
    private mutating func allocateSharedPages() {
        if sharedPages.values.isEmpty { sharedPages = NodeRows(repeating: 0, rows: count, nodeCount: nodeCount) }
    }

    private mutating func takeKernelFaults(_ kernel: KernelFaults, process p: ProcessIndex,
                                           nodes: NodeTable) -> (Int, Int) {
        allocateSharedPages()
        for k in nodes.all { pages[p, k] = 0; cpuMillis[p, k] = 0; sharedPages[p, k] = 0 }
        for (id, count) in kernel.memory { if let k = nodes.position(of: id) { pages[p, k] += Int(count) } }
        for (id, count) in kernel.cpu { if let k = nodes.position(of: id) { cpuMillis[p, k] += Int(count) } }
        let faults = kernel.privateFaults + kernel.sharedFaults
        let sharedShare = faults > 0 ? Double(kernel.sharedFaults) / Double(faults) : 0
        for k in nodes.all {
            sharedPages[p, k] = Int((Double(pages[p, k]) * sharedShare).rounded())
        }
        return (Int(faults), Int(kernel.sharedFaults))
    }

    private func localityOfRows(_ p: ProcessIndex) -> Double? {
        var pageTotal = 0, cpuTotal = 0
        var sum = 0.0
        for k in pages.nodes {
            pageTotal += pages[p, k]
            cpuTotal += cpuMillis[p, k]
            sum += Double(pages[p, k]) * Double(cpuMillis[p, k])
        }
        guard pageTotal > 0, cpuTotal > 0 else { return nil }
        return sum / (Double(pageTotal) * Double(cpuTotal))
    }

    /// Sampled shared pages of process p on node k (none when no process shares).
    func sharedPages(_ p: ProcessIndex, _ k: NodeIndex) -> Int {
        sharedPages.values.isEmpty ? 0 : sharedPages[p, k]
    }

    func identity(_ p: ProcessIndex) -> ProcessIdentity { observations[order[p]].identity }
    var identities: [ProcessIdentity] { order.values.map { observations[$0].identity } }
    func observation(_ p: ProcessIndex) -> Observation { observations[order[p]] }
    // Field access without copying the whole observation.
    func ranges(_ p: ProcessIndex) -> [RangePlacement] { observations[order[p]].ranges }
    func allowedCPUs(_ p: ProcessIndex) -> CPUSet { observations[order[p]].allowedCPUs }
    func cpusetCPUs(_ p: ProcessIndex) -> CPUSet? { observations[order[p]].cpusetCPUs }
    /// The CPUs numabalance may give p (PinOwnership.limit).
    func limit(_ p: ProcessIndex, _ nodes: NodeTable) -> CPUSet {
        PinOwnership.limit(cpuset: observations[order[p]].cpusetCPUs, topology: nodes.topology)
    }
}

/// Node masks of CPU sets and node lists, computed once per distinct value:
/// thousands of processes share a handful of cpusets.
private struct MaskCache {
    let nodes: NodeTable
    var byCPUs: [CPUSet: NodeMask] = [:]
    let allCPUs: Int

    init(nodes: NodeTable) {
        self.nodes = nodes
        allCPUs = nodes.cpus.values.reduce(0) { $0 + $1.count }
    }

    mutating func nodes(of set: CPUSet) -> NodeMask {
        if set.count == allCPUs || set.isEmpty { return nodes.cpuNodes }
        if let known = byCPUs[set] { return known }
        let mask = nodes.nodes(of: set)
        byCPUs[set] = mask
        return mask
    }

    func nodes(of ids: [NodeID]) -> NodeMask {
        // Mems_allowed is nearly always every node.
        if ids.count == nodes.count, ids.first == nodes.ids.values.first, ids.last == nodes.ids.values.last {
            return nodes.memoryNodes
        }
        var mask = NodeMask()
        for id in ids { if let k = nodes.position(of: id) { mask.insert(k) } }
        return mask
    }
}
