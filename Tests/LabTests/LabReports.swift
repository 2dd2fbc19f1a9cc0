// What the guest scripts bring back, decoded: numabalance's JSON, and the
// ground truth counted from numa_maps by the tests' own reading.
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

/// Pages per node of one process, counted from its raw numa_maps by this
/// file's own reading, not by the code under test (NUMAProc's parsers and
/// its eligibility filter): every N<node>= of anonymous memory (heap, stack,
/// anon=) and of shared memory (SysV, /dev/zero, /dev/shm); file pages, the
/// code and libraries, are not the sampler's and are skipped.
struct PagePlacementTruth {
    var pagesByNode: [Int: UInt64]

    init(numaMaps: String) {
        var pages: [Int: UInt64] = [:]
        for line in numaMaps.split(separator: "\n") {
            let shared = line.contains("SYSV") || line.contains("/dev/zero") || line.contains("/dev/shm")
            guard !line.contains(" file=") || shared else { continue }
            for (node, count) in nodePageCounts(String(line)) { pages[node, default: 0] += count }
        }
        pagesByNode = pages
    }

    /// A snapshot the guest script took with `snapshot PID NAME`.
    init(_ run: LabRun, snapshot name: String) throws {
        self.init(numaMaps: try run.text("\(name)-numa_maps.txt"))
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
