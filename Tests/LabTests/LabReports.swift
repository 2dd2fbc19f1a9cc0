// What the guest scripts bring back, decoded: numabalance's JSON, and the
// ground truth counted from maps and numa_maps by the tests' own reading.
import Foundation

/// `numabalance topology --json`.
struct TopologyReport: Decodable {
    struct Node: Decodable {
        var id: Int
        var cpus: [Int]
        var memTotalBytes: UInt64
        var memFreeBytes: UInt64
    }

    var nodes: [Node]
    var distances: [[Int]]
}

/// `numabalance inspect PID --exact --json`.
struct InspectReport: Decodable {
    struct Node: Decodable {
        var id: Int
        var pageShare: Double?
        var ci95: Double?
        var cpuShare: Double?
        var exactPageShare: Double?
    }

    var pid: Int
    var samples: Int
    var locality: Double?
    var nodes: [Node]

    func node(_ id: Int) -> Node? { nodes.first { $0.id == id } }
}

/// Pages per node of one process's eligible memory (DESIGN.md: anonymous
/// and shared memory, heap, stack and writable file mappings; not code or
/// libraries mapped read-only, PROT_NONE, [vdso]/[vvar]/[vsyscall] or hugetlb),
/// counted from a raw maps and numa_maps snapshot by this file's own reading,
/// not by the code under test (NUMAProc's parsers and its eligibility filter).
struct PagePlacementTruth {
    var pagesByNode: [Int: UInt64]

    init(maps: String, numaMaps: String) {
        // maps: "start-end perms offset dev inode [path]", keyed by start (hex).
        var mappings: [Substring: (perms: Substring, path: Substring)] = [:]
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5, let start = fields[0].split(separator: "-").first else { continue }
            let path = fields.count == 6 ? fields[5].drop { $0 == " " } : ""
            mappings[start] = (fields[1], path)
        }
        var pages: [Int: UInt64] = [:]
        for line in numaMaps.split(separator: "\n") {
            guard let start = line.split(separator: " ").first, let mapping = mappings[start],
                  Self.eligible(perms: mapping.perms, path: mapping.path), !line.contains(" huge ") else { continue }
            for (node, count) in nodePageCounts(String(line)) { pages[node, default: 0] += count }
        }
        pagesByNode = pages
    }

    static func eligible(perms: Substring, path: Substring) -> Bool {
        guard perms.count >= 4, perms.prefix(3) != "---" else { return false }
        if ["[vdso]", "[vvar]", "[vsyscall]"].contains(path) { return false }
        let sharedMemory = path.hasPrefix("/SYSV") || path.hasPrefix("/dev/zero") || path.hasPrefix("/dev/shm/")
            || path.hasPrefix("/memfd:")
        let file = path.hasPrefix("/") && !sharedMemory
        return !file || perms.dropFirst().first == "w"
    }

    /// A snapshot the guest script took with `snapshot PID NAME`.
    init(_ run: LabRun, snapshot name: String) throws {
        self.init(maps: try run.text("\(name)-maps.txt"), numaMaps: try run.text("\(name)-numa_maps.txt"))
    }

    var totalPages: UInt64 { pagesByNode.values.reduce(0, +) }

    func share(of node: Int) -> Double {
        totalPages == 0 ? 0 : Double(pagesByNode[node] ?? 0) / Double(totalPages)
    }
}

/// What a topology must look like inside the guest: the table numa-lab gives
/// QEMU, restated here so that a change to either is caught.
struct ExpectedTopology {
    var cpus: [[Int]]
    var memoryMiB: [Int]
    var distances: [[Int]]

    static let all: [String: ExpectedTopology] = [
        "2x2": ExpectedTopology(cpus: [[0, 1], [2, 3]], memoryMiB: [2048, 2048],
                                distances: [[10, 21], [21, 10]]),
        "4x1": ExpectedTopology(cpus: [[0], [1], [2], [3]], memoryMiB: [1024, 1024, 1024, 1024],
                                distances: [[10, 21, 21, 21], [21, 10, 21, 21], [21, 21, 10, 21], [21, 21, 21, 10]]),
        "2x2+mem": ExpectedTopology(cpus: [[0, 1], [2, 3], []], memoryMiB: [2048, 2048, 1024],
                                    distances: [[10, 21, 30], [21, 10, 30], [30, 30, 10]]),
    ]
}
