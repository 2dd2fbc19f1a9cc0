/// The simulated kernel scheduler: keeps threads within their affinity and
/// pulls threads off nodes with more runnable demand than CPUs onto allowed
/// nodes with room. It knows nothing of memory, as CFS's load balancer
/// without NUMA balancing.
extension SimWorld {
    func allows(_ process: SimProcess, _ thread: SimThread, on node: Int) -> Bool {
        if let bound = thread.boundNode { return node == bound }
        return process.affinity[node]
    }

    mutating func schedule() {
        var demand = nodeDemand
        let cpus = Double(cpusPerNode)
        for p in processes.indices {
            for t in processes[p].threads.indices {
                let thread = processes[p].threads[t]
                guard !allows(processes[p], thread, on: thread.node) else { continue }
                let allowed = (0..<nodeCount).filter { allows(processes[p], thread, on: $0) }
                guard let best = allowed.min(by: { demand[$0] != demand[$1] ? demand[$0] < demand[$1] : $0 < $1 })
                else { continue }
                demand[thread.node] -= thread.demand
                demand[best] += thread.demand
                processes[p].threads[t].node = best
            }
        }
        for k in 0..<nodeCount where demand[k] > cpus + 1e-9 {
            for p in processes.indices {
                for t in processes[p].threads.indices where processes[p].threads[t].node == k {
                    guard demand[k] > cpus + 1e-9 else { break }
                    let thread = processes[p].threads[t]
                    let room = (0..<nodeCount).filter {
                        $0 != k && allows(processes[p], thread, on: $0) && demand[$0] + thread.demand <= cpus + 1e-9
                    }
                    guard let best = room.min(by: { demand[$0] != demand[$1] ? demand[$0] < demand[$1] : $0 < $1 })
                    else { continue }
                    demand[k] -= thread.demand
                    demand[best] += thread.demand
                    processes[p].threads[t].node = best
                }
            }
        }
    }

    /// Runs every thread for `interval` seconds: a node with more demand
    /// than CPUs shares them out evenly.
    mutating func run(interval: Double) {
        let demand = nodeDemand
        let cpus = Double(cpusPerNode)
        for p in processes.indices {
            for t in processes[p].threads.indices {
                let thread = processes[p].threads[t]
                let share = demand[thread.node] > cpus ? cpus / demand[thread.node] : 1
                let seconds = thread.demand * share * interval
                processes[p].threads[t].cpuLastRound = seconds
                processes[p].threads[t].cpuSinceSample += seconds
            }
        }
    }
}
