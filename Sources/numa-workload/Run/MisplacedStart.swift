// The start the "memory on one node, threads on another" scenarios share.

enum MisplacedStart {
    /// Checks both nodes, runs the calling thread on `memNode`'s CPUs (when
    /// it has any) and gathers every page the process has so far there, so
    /// the runtime's own memory is misplaced too. Returns `cpuNode`'s CPUs,
    /// where the scenario's threads are to run.
    static func prepare(memNode: Int, cpuNode: Int) throws -> [Int] {
        let cpus = try NodeCPUs.cpus(of: cpuNode)
        guard !cpus.isEmpty else { throw WorkloadError("node \(cpuNode) has no CPUs") }
        try NodeCPUs.requireMemory(on: memNode)
        let homeCPUs = try NodeCPUs.cpus(of: memNode)
        if !homeCPUs.isEmpty { try NodeCPUs.pinCurrentThread(to: homeCPUs) }
        try MemoryPolicy.gatherOwnPages(on: memNode)
        return cpus
    }
}
