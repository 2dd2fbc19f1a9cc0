import ArgumentParser
import NUMAModel
import NUMATopology

/// `numabalance topology`: the numactl -H facts, plus CPU-less nodes and reserves.
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show NUMA nodes, their CPUs and memory, and the distances between them.",
        discussion: """
            Reads /sys/devices/system/node and /proc/zoneinfo. A node without CPUs \
            (a CXL or PMEM memory tier) is marked CPU-less: numabalance places \
            memory there but never threads. The reserve is the sum of the node's \
            zones' high watermarks: numabalance never migrates memory onto a node \
            if that would leave its free memory below the reserve.
            """
    )

    @Flag(help: "Print JSON: {\"nodes\":[{\"id\",\"cpus\",\"memTotalBytes\",\"memFreeBytes\",…}],\"distances\":[[…]]}.")
    var json = false

    @Option(help: ArgumentHelp("Root of sysfs to read (for testing).", visibility: .hidden))
    var sysRoot = "/sys"

    @Option(help: ArgumentHelp("Root of procfs to read (for testing).", visibility: .hidden))
    var procRoot = "/proc"

    func run() throws {
        let topology: Topology
        do { topology = try TopologyReader(sysRoot: sysRoot, procRoot: procRoot).read() } catch {
            throw CommandError("cannot read the NUMA topology: \(error)")
        }
        if json {
            try Output.printJSON(TopologyJSON(topology))
        } else {
            print(Self.text(topology))
        }
    }

    static func text(_ topology: Topology) -> String {
        let ids = topology.nodeIDs.map(\.rawValue)
        var lines = ["available: \(ids.count) nodes (\(formatIDList(ids)))"]
        for node in topology.nodes {
            let cpus = node.hasCPUs ? node.cpus.ids.map(String.init).joined(separator: " ")
                : "none (CPU-less memory node)"
            lines.append("node \(node.id) cpus: \(cpus)")
            lines.append("node \(node.id) size: \(Output.bytes(node.memTotalBytes))")
            lines.append("node \(node.id) free: \(Output.bytes(node.memFreeBytes))")
            lines.append("node \(node.id) reserve (high watermark): \(Output.bytes(node.highWatermarkBytes))")
        }
        lines.append("node distances:")
        var rows = [["node"] + ids.map(String.init)]
        for (i, id) in ids.enumerated() {
            rows.append(["\(id):"] + topology.distances[i].map(String.init))
        }
        lines.append(Output.table(rows))
        return lines.joined(separator: "\n")
    }
}

/// The JSON shape of `topology --json`.
struct TopologyJSON: Encodable {
    struct NodeJSON: Encodable {
        var id: Int
        var cpus: [Int]
        var cpuLess: Bool
        var memTotalBytes: UInt64
        var memFreeBytes: UInt64
        var highWatermarkBytes: UInt64
    }

    var nodes: [NodeJSON]
    var distances: [[Int]]

    init(_ topology: Topology) {
        nodes = topology.nodes.map {
            NodeJSON(id: $0.id.rawValue, cpus: $0.cpus.ids, cpuLess: !$0.hasCPUs,
                     memTotalBytes: $0.memTotalBytes, memFreeBytes: $0.memFreeBytes,
                     highWatermarkBytes: $0.highWatermarkBytes)
        }
        distances = topology.distances
    }
}
