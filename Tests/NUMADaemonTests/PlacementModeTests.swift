import Logging
import NUMAModel
import NUMAPolicy
import Testing
@testable import NUMADaemon

/// The mode follows the sysctl's bits; the daemon's view of free memory
/// follows the machine.
@Suite struct PlacementModeTests {
    @Test("kernel.numa_balancing=2 (tiering only) leaves DRAM-to-DRAM pages to numabalance: standalone")
    func tieringOnlyIsStandalone() {
        #expect(PlacementMode(numaBalancing: nil) == .standalone)
        #expect(PlacementMode(numaBalancing: 0) == .standalone)
        #expect(PlacementMode(numaBalancing: 1) == .hybrid)
        #expect(PlacementMode(numaBalancing: 2) == .standalone)
        #expect(PlacementMode(numaBalancing: 3) == .hybrid)
    }

    @Test("the daemon's mode at start: a sysctl of 2 gives standalone")
    func daemonReadsTheBits() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let sysctl = folder + "/numa_balancing"
        let kernelSwitch = KernelBalancingSwitch(stateDirectory: folder + "/state", sysctlPath: sysctl)
        let logger = Logger(label: "test")
        for (value, mode) in [("2\n", PlacementMode.standalone), ("1\n", .hybrid), ("3\n", .hybrid)] {
            try value.write(toFile: sysctl, atomically: false, encoding: .utf8)
            #expect(try Daemon.setUpKernelBalancing(kernelSwitch, setting: .leave, logger: logger) == mode)
        }
    }

    @Test("free memory is re-read each refresh, and after a hotplug too (the engine's node list kept)")
    func freeMemoryFollowsTheMachine() {
        func node(_ id: Int, free: UInt64) -> Node {
            Node(id: NodeID(id), cpus: id < 2 ? CPUSet([id]) : CPUSet(), memTotalBytes: 8 << 30,
                 memFreeBytes: free, highWatermarkBytes: 1 << 20)
        }
        let known = Topology(nodes: [node(0, free: 6 << 30), node(1, free: 6 << 30), node(2, free: 6 << 30)],
                             distances: [[10, 21, 30], [21, 10, 30], [30, 30, 10]])
        let same = Topology(nodes: [node(0, free: 1 << 30), node(1, free: 2 << 30), node(2, free: 3 << 30)],
                            distances: known.distances)
        #expect(Balancer.refreshed(known, with: same) == same)
        // Node 2 (a CXL tier) hot-removed: nodes 0 and 1 get their new
        // figures, node 2 keeps its place with no room.
        let removed = Topology(nodes: [node(0, free: 1 << 30), node(1, free: 2 << 30)],
                               distances: [[10, 21], [21, 10]])
        let merged = Balancer.refreshed(known, with: removed)
        #expect(merged.nodeIDs == known.nodeIDs)
        #expect(merged.nodes.map(\.memFreeBytes) == [1 << 30, 2 << 30, 0])
    }
}
