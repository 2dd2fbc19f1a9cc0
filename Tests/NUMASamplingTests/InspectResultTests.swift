// What `inspect` reports for a process whose pages are split over two nodes:
// this host has one node, so the split is a made observation; the lab checks
// the same report against a real kernel's numa_maps.
import Foundation
import NUMAModel
@testable import NUMABalanceCLI
@testable import NUMASampling
import Testing

@Suite("inspect's report of a two-node process")
struct InspectResultTests {
    static let topology = Topology(
        nodes: (0..<2).map { k in
            Node(id: NodeID(k), cpus: CPUSet((k * 2)..<(k * 2 + 2)), memTotalBytes: 2 << 30, memFreeBytes: 1 << 30,
                 highWatermarkBytes: 16 << 20)
        },
        distances: [[10, 21], [21, 10]])

    /// 700 sampled pages on node 0, 300 on node 1; one busy thread on node 1.
    static func report() -> SamplingReport {
        let identity = ProcessIdentity(pid: 4242, startTime: 7)
        let observation = Observation(
            identity: identity, comm: "split", time: 1, intervalSeconds: 1,
            pages: PagePlacement(queried: 1000, pagesByNode: [NodeID(0): 700, NodeID(1): 300], notResident: 0, failed: 0),
            threads: [ThreadActivity(tid: 4242, cpuSeconds: 1, lastCPU: 2, node: NodeID(1), state: "R")],
            allowedCPUs: CPUSet(0..<4), allowedNodes: [], rssBytes: 64 << 20, eligibleBytes: 64 << 20)
        return SamplingReport(observation: observation, probeSeconds: 0.001, design: SampleDesign(runLength: 1, pages: 1000),
                              mapsSeconds: 0, tiers: AccessTiers(kernelHintFaults: "off", softDirty: "off"),
                              cpuBaseline: CPUBaseline(identity: identity, readings: [:], time: 1))
    }

    @Test("each node's sampled and exact shares, the CPU share and the locality are the observation's")
    func sharesPerNode() throws {
        let result = InspectResult(report: Self.report(), topology: Self.topology,
                                   exactShares: [NodeID(0): 0.71, NodeID(1): 0.29])
        let node0 = try #require(result.nodes.first { $0.id == 0 }), node1 = try #require(result.nodes.first { $0.id == 1 })
        #expect(abs((node0.pageShare ?? -1) - 0.7) < 1e-9)
        #expect(abs((node1.pageShare ?? -1) - 0.3) < 1e-9)
        #expect(node0.exactPageShare == 0.71 && node1.exactPageShare == 0.29)
        #expect(node0.cpuShare == 0 && node1.cpuShare == 1)
        // Locality: 0.3 of the pages where all the CPU time was.
        #expect(abs((result.locality ?? -1) - 0.3) < 1e-9)
        let json = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        #expect(json.contains("\"exactPageShare\":0.29"), "\(json)")
    }
}
