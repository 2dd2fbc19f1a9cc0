/// The kernel's NUMA balancing as hybrid mode finds it: per-thread,
/// page-level placement of private memory. A page moves to node d when its
/// last two hint faults came from d (probability a_d², a_d being d's share
/// of the accesses), on the part of the address space scanned this round
/// (256 MB per second per process). Shared segments are left where they are,
/// as the peers' measurement found (DESIGN.md: 903 of 65,536 pages moved in 60 s).
extension SimWorld {
    static let kernelScanBytesPerSecond = 256.0 * 1024 * 1024
    /// Hint faults counted per CPU-second of a thread (the scale of the
    /// kernel's numa_faults numbers).
    static let faultsPerCPUSecond = 1000.0

    /// Page moves of one round; returns the bytes moved.
    mutating func kernelBalance(interval: Double) -> Double {
        var moved = 0.0
        var fromNode = Array(repeating: 0.0, count: nodeCount)
        for p in processes.indices {
            let size = processes[p].ranges.reduce(0.0) { $0 + Double(ranges[$1].bytes) }
            guard size > 0 else { continue }
            let coverage = min(1, Self.kernelScanBytesPerSecond * interval / size)
            for r in processes[p].ranges where ranges[r].object == nil {
                for k in 0..<nodeCount { fromNode[k] = 0 }
                var total = 0.0
                for thread in processes[p].threads {
                    for (index, range) in thread.accesses.enumerated() where range == r {
                        fromNode[thread.node] += thread.cpuLastRound * thread.weights[index]
                        total += thread.cpuLastRound * thread.weights[index]
                    }
                }
                guard total > 0 else { continue }
                for d in 0..<nodeCount where fromNode[d] > 0 {
                    let a = fromNode[d] / total
                    let remote = Double(ranges[r].bytes) - ranges[r].onNode[d]
                    var target = Array(repeating: 0.0, count: nodeCount)
                    target[d] = 1
                    moved += move(range: r, toward: target, upTo: remote * a * a * coverage, byKernel: true)
                }
            }
        }
        return moved
    }

    /// The kernel's per-task fault statistics (/proc/pid/task/tid/sched
    /// numa_faults, summed over threads), decayed as the kernel does.
    mutating func updateKernelFaults() {
        var touchers = Array(repeating: 0, count: ranges.count)
        for process in processes {
            for thread in process.threads { for r in thread.accesses { touchers[r] += 1 } }
        }
        for p in processes.indices {
            var mem = Array(repeating: 0.0, count: nodeCount)
            var cpu = Array(repeating: 0.0, count: nodeCount)
            var privateFaults = 0.0, sharedFaults = 0.0
            for thread in processes[p].threads {
                let faults = thread.cpuLastRound * Self.faultsPerCPUSecond
                cpu[thread.node] += faults
                for (r, weight) in zip(thread.accesses, thread.weights) {
                    for k in 0..<nodeCount { mem[k] += faults * weight * ranges[r].share(on: k) }
                    if touchers[r] > 1 { sharedFaults += faults * weight } else { privateFaults += faults * weight }
                }
            }
            for k in 0..<nodeCount {
                processes[p].kernelMem[k] = (processes[p].kernelMem[k] + 1) / 2 + Int(mem[k].rounded())
                processes[p].kernelCPU[k] = (processes[p].kernelCPU[k] + 1) / 2 + Int(cpu[k].rounded())
            }
            processes[p].kernelPrivate = (processes[p].kernelPrivate + 1) / 2 + Int(privateFaults.rounded())
            processes[p].kernelShared = (processes[p].kernelShared + 1) / 2 + Int(sharedFaults.rounded())
        }
    }
}
