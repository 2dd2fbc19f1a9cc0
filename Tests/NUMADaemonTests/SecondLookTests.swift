import NUMAModel
import Testing
@testable import NUMADaemon

/// The two-stage filter's second look comes 300 ms later only for a
/// process whose threads may run on one node: an unpinned one's threads
/// wander, and two looks that close see the same wander twice.
@Suite("the second look soon")
struct SecondLookTests {
    let topology = Topology(
        nodes: [Node(id: 0, cpus: CPUSet([0, 1]), memTotalBytes: 1 << 30, memFreeBytes: 1 << 30),
                Node(id: 1, cpus: CPUSet([2, 3]), memTotalBytes: 1 << 30, memFreeBytes: 1 << 30)],
        distances: [[10, 21], [21, 10]])

    @Test("threads allowed on one node's CPUs (a user's pin or ours): soon")
    func pinned() {
        #expect(Balancer.runsOnOneNode(CPUSet([2, 3]), topology: topology))
        #expect(Balancer.runsOnOneNode(CPUSet([1]), topology: topology))
    }

    @Test("threads allowed on two nodes, or not known: at the next round")
    func unpinned() {
        #expect(!Balancer.runsOnOneNode(CPUSet([0, 1, 2, 3]), topology: topology))
        #expect(!Balancer.runsOnOneNode(CPUSet([1, 2]), topology: topology))
        #expect(!Balancer.runsOnOneNode(nil, topology: topology))
        #expect(!Balancer.runsOnOneNode(CPUSet(), topology: topology))
    }
}
