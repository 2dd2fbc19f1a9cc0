import Foundation
import NUMAModel
@testable import NUMAPolicy

/// Paths of the repository's own files, found from this file's place, and a
/// machine to check nodes against.
enum TestFiles {
    /// Tests/NUMAPolicyTests
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
    /// The repository root.
    static let root = URL(fileURLWithPath: testsFolder).deletingLastPathComponent().deletingLastPathComponent().path
    static let policies = root + "/Policies"
    static let broken = testsFolder + "/Broken"

    /// The YAML files of a folder, sorted.
    static func yamlFiles(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// What NUMABALANCE_UPDATE_GOLDEN=1 asks for here: a rewrite (then read
    /// the diff; the run still fails), or a refusal under CI (CI set to
    /// anything), where the golden files are the check.
    enum GoldenUpdate: Equatable { case off, rewrite, refusedUnderCI }

    static func goldenUpdate(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> GoldenUpdate {
        guard !(environment["NUMABALANCE_UPDATE_GOLDEN"] ?? "").isEmpty else { return .off }
        return (environment["CI"] ?? "").isEmpty ? .rewrite : .refusedUnderCI
    }
}

/// Two nodes with CPUs and a CPU-less memory node (a CXL expander).
enum TestTopology {
    static let gib: UInt64 = 1 << 30
    static let twoNodesAndCXL = Topology(
        nodes: [
            Node(id: 0, cpus: CPUSet(0...3), memTotalBytes: 16 * gib, memFreeBytes: 8 * gib),
            Node(id: 1, cpus: CPUSet(4...7), memTotalBytes: 16 * gib, memFreeBytes: 8 * gib),
            Node(id: 2, cpus: CPUSet(), memTotalBytes: 64 * gib, memFreeBytes: 60 * gib),
        ],
        distances: [[10, 21, 30], [21, 10, 30], [30, 30, 10]]
    )
    /// Node 1 has CPUs but no memory (a memory-less node).
    static let memorylessNode1 = Topology(
        nodes: [
            Node(id: 0, cpus: CPUSet(0...3), memTotalBytes: 16 * gib, memFreeBytes: 8 * gib),
            Node(id: 1, cpus: CPUSet(4...7), memTotalBytes: 0, memFreeBytes: 0),
        ],
        distances: [[10, 21], [21, 10]]
    )
}

/// A policy file's text from its parts, for short tests.
func policyText(name: String = "p", match: String = "comm: [x]", placement: String = "mode: auto",
                extra: String = "") -> String {
    """
    apiVersion: numabalance/v1
    kind: Policy
    name: \(name)
    match: {\(match)}
    placement: {\(placement)}
    \(extra)
    """
}

/// The errors of loading `text` as a policy file named "t.yaml", one a line.
func policyErrors(_ text: String, topology: Topology? = nil) -> [String] {
    do {
        _ = try PolicyLoader.load(text: text, file: "t.yaml", topology: topology)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}
