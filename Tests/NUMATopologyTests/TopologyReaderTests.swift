import Foundation
import NUMAModel
import Testing

@testable import NUMATopology

/// Fixture trees under Fixtures/NAME/{sys,proc}, shaped like the kernel's.
func fixtureReader(_ name: String) throws -> TopologyReader {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return TopologyReader(sysRoot: url.path + "/sys", procRoot: url.path + "/proc")
}

@Suite("Topology discovery from sysfs")
struct TopologyReaderTests {
    @Test("two nodes: CPUs, memory, distances, reserve from zoneinfo")
    func twoNodes() throws {
        let topology = try fixtureReader("two-nodes").read()
        #expect(topology.nodeIDs == [0, 1])
        #expect(topology.nodes[0].cpus.ids == [0, 1])
        #expect(topology.nodes[1].cpus.ids == [2, 3])
        #expect(topology.nodes[0].memTotalBytes == 2_097_152 * 1024)
        #expect(topology.nodes[1].memFreeBytes == 2_000_000 * 1024)
        #expect(topology.distances == [[10, 21], [21, 10]])
        #expect(topology.distance(from: 0, to: 1) == 21)
        // Node 0's zones' high watermarks: 5 + 500 + 5000 pages of 4 KiB.
        #expect(topology.nodes[0].highWatermarkBytes == 5505 * 4096)
        #expect(topology.nodes[1].highWatermarkBytes == 3000 * 4096)
        #expect(topology.node(ofCPU: 3) == 1)
        #expect(topology.node(ofCPU: 9) == nil)
    }

    @Test("four nodes, one CPU-less: it has memory and no CPUs")
    func cpuLessNode() throws {
        let topology = try fixtureReader("four-nodes-cpuless").read()
        #expect(topology.nodeIDs == [0, 1, 2, 3])
        let memoryNode = try #require(topology.node(3))
        #expect(memoryNode.cpus.isEmpty)
        #expect(!memoryNode.hasCPUs)
        #expect(memoryNode.hasMemory)
        #expect(topology.nodes.filter(\.hasCPUs).count == 3)
        #expect(topology.distance(from: 3, to: 0) == 30)
        #expect(topology.allCPUs.ids == [0, 1, 2, 3, 4, 5])
    }

    @Test("sparse node ids {0, 2}: distances by position, never by id")
    func sparseIDs() throws {
        let topology = try fixtureReader("sparse-0-2").read()
        #expect(topology.nodeIDs == [0, 2])
        #expect(topology.distance(from: 2, to: 0) == 32)
        #expect(topology.distance(from: 2, to: 2) == 10)
        #expect(topology.distance(from: 1, to: 0) == nil)
        #expect(topology.node(ofCPU: 5) == 2)
        let sparse = try #require(topology.node(2))
        #expect(sparse.memTotalBytes == UInt64(4_194_304) * 1024)
    }

    @Test("a distance row that does not match the node count is an error naming the file")
    func brokenDistance() throws {
        let reader = try fixtureReader("broken-distance")
        #expect {
            try reader.read()
        } throws: { error in
            String(describing: error).contains("node0/distance")
        }
    }

    @Test("a missing sysfs root is an error, not a crash")
    func missingRoot() {
        let reader = TopologyReader(sysRoot: "/nonexistent/sys", procRoot: "/nonexistent/proc")
        #expect(throws: TopologyError.self) { try reader.read() }
    }

    @Test("node utilisation from two /proc/stat readings")
    func utilization() throws {
        let reader = try fixtureReader("two-nodes")
        let topology = try reader.read()
        let before = try reader.cpuTimes()
        // CPU 2 busy for 100 of 100 ticks, CPU 3 idle; node 0 untouched.
        let after = before.map { times in
            var t = times
            t.totalTicks += 100
            if t.cpu == 2 { t.busyTicks += 100 }
            return t
        }
        let usage = TopologyReader.utilization(topology: topology, before: before, after: after)
        #expect(usage.map(\.node) == [0, 1])
        #expect(usage[0].busyFraction == 0)
        #expect(abs(usage[1].busyFraction - 0.5) < 1e-9)
    }

    @Test("this machine: the live topology has at least one node with CPUs")
    func liveMachine() throws {
        let topology = try TopologyReader().read()
        #expect(!topology.nodes.isEmpty)
        #expect(topology.nodes.contains { $0.hasCPUs })
        #expect(topology.distances.count == topology.nodes.count)
    }
}
