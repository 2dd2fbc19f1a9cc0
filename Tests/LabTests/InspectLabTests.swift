// In the 2x2 guest: numabalance inspect agrees with numa_maps, and pages move
// for real (migratepages).
import Testing

extension LabTests {
    @Suite("inspect and migration in 2x2")
    struct InspectChecks {
        /// The scripts' workloads are 64 MiB: 16,384 pages of 4 KiB.
        static let bufferPages: UInt64 = 64 << 8
        static let tolerance = 0.03

        @Test("inspect --exact on misplaced agrees with numa_maps within 3 points; locality at most 0.05")
        func misplacedAgreesWithNumaMaps() async throws {
            let run = try await LabRuns.shared.completedRun("2x2")
            #expect(try run.code("misplaced-inspect.rc") == 0, "inspect failed: \(run.contents("misplaced-inspect.err"))")
            let report = try run.decode(InspectReport.self, from: "misplaced-inspect.json")
            let truth = try PagePlacementTruth(run, snapshot: "misplaced")

            #expect((truth.pagesByNode[0] ?? 0) >= Self.bufferPages * 98 / 100,
                    "the workload did not place its buffer on node 0: \(truth.pagesByNode)")
            try Self.expectAgreement(report, truth, nodes: [0, 1])
            let locality = try #require(report.locality, "no locality: the threads used no CPU")
            #expect(locality <= 0.05, "locality \(locality) of a process whose memory is all remote")
        }

        @Test("inspect --exact on split 0:0.7,1:0.3 agrees with numa_maps within 3 points")
        func splitAgreesWithNumaMaps() async throws {
            let run = try await LabRuns.shared.completedRun("2x2")
            #expect(try run.code("split-inspect.rc") == 0, "inspect failed: \(run.contents("split-inspect.err"))")
            let report = try run.decode(InspectReport.self, from: "split-inspect.json")
            let truth = try PagePlacementTruth(run, snapshot: "split")

            // The buffer is 70/30; the runtime's own pages blur it a little.
            #expect(truth.share(of: 0) > 0.6 && truth.share(of: 0) < 0.8, "split placed \(truth.pagesByNode)")
            try Self.expectAgreement(report, truth, nodes: [0, 1])
        }

        @Test("migratepages moves misplaced to node 1, as numa_maps and vmstat show")
        func migratepagesMovesPages() async throws {
            let run = try await LabRuns.shared.completedRun("2x2")
            #expect(try run.code("migratepages.rc") == 0, "migratepages failed: \(run.contents("migratepages.log"))")
            let before = try PagePlacementTruth(run, snapshot: "misplaced")
            let after = try PagePlacementTruth(run, snapshot: "migrated")

            #expect((before.pagesByNode[0] ?? 0) >= Self.bufferPages * 98 / 100)
            #expect((after.pagesByNode[0] ?? 0) <= Self.bufferPages * 2 / 100,
                    "pages left on node 0 after migratepages: \(after.pagesByNode)")
            #expect((after.pagesByNode[1] ?? 0) >= Self.bufferPages * 98 / 100)
            let moved = try Self.vmstat(run, "vmstat-after.txt") - Self.vmstat(run, "vmstat-before.txt")
            #expect(moved >= Self.bufferPages * 98 / 100, "pgmigrate_success grew by \(moved)")
        }

        /// Sampled and exact shares from inspect, each within the tolerance of
        /// the ground truth counted here from the same moment's numa_maps.
        static func expectAgreement(_ report: InspectReport, _ truth: PagePlacementTruth, nodes: [Int]) throws {
            for id in nodes {
                let node = try #require(report.node(id), "inspect reports no node \(id)")
                let sampled = try #require(node.pageShare, "no sampled share for node \(id)")
                let exact = try #require(node.exactPageShare, "no exact share for node \(id)")
                let expected = truth.share(of: id)
                #expect(abs(sampled - expected) <= tolerance,
                        "node \(id): sampled \(sampled), numa_maps \(expected) (\(report.samples) samples)")
                #expect(abs(exact - expected) <= tolerance,
                        "node \(id): inspect's exact \(exact), numa_maps \(expected)")
            }
        }

        /// pgmigrate_success from a `grep pgmigrate_success /proc/vmstat` file.
        static func vmstat(_ run: LabRun, _ name: String) throws -> UInt64 {
            let field = try run.text(name).split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            return try #require(field.flatMap { UInt64($0) }, "no pgmigrate_success in \(name)")
        }
    }
}
