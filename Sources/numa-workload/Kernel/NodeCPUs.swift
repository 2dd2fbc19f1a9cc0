// Nodes and their CPUs (libnuma), and pinning a thread to a node's CPUs.
import CLinux
import CNUMA
import Glibc

enum NodeCPUs {
    /// Fails unless the kernel has NUMA support (libnuma's numa_available).
    static func requireNUMA() throws {
        guard numa_available() >= 0 else { throw WorkloadError("this kernel has no NUMA support (numa_available failed)") }
    }

    static var maxNode: Int { Int(numa_max_node()) }
    static var configuredCPUs: Int { Int(numa_num_configured_cpus()) }

    /// The CPUs of `node`, empty for a memory-only node. Wraps numa_node_to_cpus(3).
    static func cpus(of node: Int) throws -> [Int] {
        guard node >= 0, node <= maxNode else { throw WorkloadError("no node \(node) (nodes 0-\(maxNode))") }
        guard let mask = numa_allocate_cpumask() else { throw WorkloadError("numa_allocate_cpumask failed") }
        defer { numa_bitmask_free(mask) }
        guard numa_node_to_cpus(Int32(node), mask) == 0 else { throw WorkloadError("numa_node_to_cpus", errno: errno) }
        return (0..<configuredCPUs).filter { numa_bitmask_isbitset(mask, UInt32($0)) != 0 }
    }

    /// Bytes of memory `node` has (0 for a node without memory).
    static func memoryBytes(of node: Int) -> Int64 {
        node >= 0 && node <= maxNode ? numa_node_size64(Int32(node), nil) : -1
    }

    /// The node of the CPU the calling thread runs on now.
    static func currentNode() -> Int {
        let cpu = clinux_getcpu()
        return cpu < 0 ? 0 : max(0, Int(numa_node_of_cpu(cpu)))
    }

    /// The CPUs the calling thread may run on. Wraps sched_getaffinity(2).
    static func allowedCPUs() throws -> [Int] {
        var words = [UInt64](repeating: 0, count: 16)
        let rc = words.withUnsafeMutableBufferPointer { clinux_sched_getaffinity(0, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw WorkloadError("sched_getaffinity", errno: -rc) }
        return (0..<words.count * 64).filter { words[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
    }

    /// Restricts the calling thread to `cpus`. Wraps sched_setaffinity(2).
    static func pinCurrentThread(to cpus: [Int]) throws {
        var words = [UInt64](repeating: 0, count: 16)
        for cpu in cpus where cpu < words.count * 64 {
            words[cpu / 64] |= 1 << UInt64(cpu % 64)
        }
        let rc = words.withUnsafeBufferPointer { clinux_sched_setaffinity(0, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw WorkloadError("sched_setaffinity", errno: -rc) }
    }

    /// A node able to hold memory, or a clear error.
    static func requireMemory(on node: Int) throws {
        guard node >= 0, node <= maxNode, memoryBytes(of: node) > 0 else {
            throw WorkloadError("node \(node) has no memory (nodes 0-\(maxNode))")
        }
    }
}
