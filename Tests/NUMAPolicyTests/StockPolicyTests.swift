import Foundation
import NUMAModel
import Testing
@testable import NUMAPolicy

/// The stock policies in Policies/ load, on their own and on a real-looking
/// machine, and say what their comments say.
@Suite struct StockPolicyTests {
    static let files = TestFiles.yamlFiles(in: TestFiles.policies)

    @Test func theStockSetIsThere() {
        for name in ["default.yaml", "postgresql.yaml", "jvm.yaml", "hpc-mpi.yaml", "kvm-qemu.yaml",
                     "latency-pin.yaml", "batch-interleave.yaml"] {
            #expect(Self.files.contains(name), "\(name) missing from Policies/")
        }
    }

    @Test(arguments: files)
    func stockPolicyValidates(name: String) throws {
        let path = TestFiles.policies + "/" + name
        let policies = try PolicyLoader.load(path: path)
        #expect(!policies.isEmpty)
        // And on a machine with two CPU nodes and a CXL node.
        _ = try PolicyLoader.load(path: path, topology: TestTopology.twoNodesAndCXL)
    }

    @Test func defaultFileIsTheBuiltInDefault() throws {
        let policies = try PolicyLoader.load(path: TestFiles.policies + "/default.yaml")
        var written = try #require(policies.first)
        written.source = nil
        #expect(policies.count == 1)
        #expect(written == BuiltinPolicy.default)
    }

    @Test func stockPoliciesSayWhatTheirCommentsSay() throws {
        func load(_ name: String) throws -> [Policy] { try PolicyLoader.load(path: TestFiles.policies + "/" + name) }
        let postgres = try #require(try load("postgresql.yaml").first)
        #expect(postgres.placement.group == .sharedMemory)
        #expect(postgres.memory.maxRateMBps == 512)

        let jvm = try load("jvm.yaml")
        #expect(jvm.map(\.name) == ["jvm-numa-aware", "jvm"])
        #expect(jvm[0].placement.mode == .ignore)
        #expect(jvm[1].match.minRSSBytes == 256 << 20)

        let mpi = try #require(try load("hpc-mpi.yaml").first)
        #expect(mpi.placement.spread == .onePerNode && mpi.placement.group == .parent)

        let kvm = try #require(try load("kvm-qemu.yaml").first)
        #expect(kvm.placement.spread == .singleNode && kvm.placement.group == Grouping.none)
        #expect(kvm.match.comm.allSatisfy { $0.utf8.count <= 15 })

        let pin = try #require(try load("latency-pin.yaml").first)
        #expect(pin.placement.mode == .pin && pin.placement.nodes == .list([0]))

        let batch = try #require(try load("batch-interleave.yaml").first)
        #expect(batch.placement.mode == .interleave && batch.placement.nodes == .all)
    }

    /// Installed together under their own names, default.yaml would sort
    /// before the others and hide them: the set says so.
    @Test func theStockFolderAsASetFlagsTheCatchAllOrder() throws {
        let error = #expect(throws: ConfigErrorList.self) {
            _ = try PolicySet.load(directory: TestFiles.policies, generation: 1)
        }
        // The catch-all (default.yaml sorts first) takes every process before the others.
        #expect(error?.description.contains("takes every process") == true, "\(String(describing: error))")
    }

    /// With the catch-all renamed to sort last, the stock set loads as one.
    @Test func theStockSetLoadsWithTheDefaultLast() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stock-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in Self.files {
            let target = name == "default.yaml" ? "99-default.yaml" : "50-" + name
            try FileManager.default.copyItem(atPath: TestFiles.policies + "/" + name, toPath: folder + "/" + target)
        }
        let set = try PolicySet.load(directory: folder, generation: 7, topology: TestTopology.twoNodesAndCXL)
        #expect(set.generation == 7)
        #expect(set.policies.last?.name == "default")
        #expect(set.policy(for: ProcessFacts(pid: 10, comm: "postgres")).name == "postgres-shared-buffers")
        #expect(set.policy(for: ProcessFacts(pid: 11, comm: "bash")).name == "default")
    }
}
