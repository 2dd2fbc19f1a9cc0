// numabalance's topology inside a guest must be exactly what QEMU was given.
import Testing

extension LabTests {
    @Suite("numabalance topology")
    struct TopologyChecks {
        @Test("reports exactly the nodes, CPUs, CPU-less node and distances given to QEMU",
              arguments: ["2x2", "4x1", "2x2+mem"])
        func reportsTheGuestTopology(topology: String) async throws {
            let run = try await LabRuns.shared.completedRun(topology)
            let expected = try #require(ExpectedTopology.all[topology])
            #expect(try run.code("topology.rc") == 0, "numabalance topology failed: \(run.contents("topology.err"))")
            let report = try run.decode(TopologyReport.self, from: "topology.json")

            #expect(report.nodes.map(\.id) == Array(expected.cpus.indices))
            #expect(report.nodes.map(\.cpus) == expected.cpus)
            #expect(report.distances == expected.distances)
            for (node, mib) in zip(report.nodes, expected.memoryMiB) {
                // The kernel keeps some of every node (node 0 most) for itself.
                let size = Double(UInt64(mib) << 20)
                let total = Double(node.memTotalBytes)
                #expect(total <= size && total >= 0.8 * size,
                        "node \(node.id): MemTotal \(node.memTotalBytes) for a \(mib) MiB node")
                #expect(node.memFreeBytes > 0 && node.memFreeBytes <= node.memTotalBytes)
            }
        }
    }
}
