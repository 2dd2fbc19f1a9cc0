// The guests numa-lab can boot, as data: one table, and the QEMU arguments
// built from it, so what a test expects and what QEMU is told cannot drift.

/// One NUMA node of a guest: its CPUs (possibly none) and its memory.
struct LabNode: Sendable, Equatable, Codable {
    /// Guest CPU numbers on this node; empty for a memory-only node (CXL, PMEM tier).
    var cpus: [Int]
    var memoryMiB: Int
}

/// A guest shape: nodes, and the SLIT distance between every two of them.
struct LabTopology: Sendable, Codable {
    var name: String
    var summary: String
    var nodes: [LabNode]
    /// distances[i][j], with 10 on the diagonal as ACPI's SLIT requires.
    var distances: [[Int]]

    var cpuCount: Int { nodes.reduce(0) { $0 + $1.cpus.count } }
    var memoryMiB: Int { nodes.reduce(0) { $0 + $1.memoryMiB } }
}

extension LabTopology {
    /// Every topology, in the order `numa-lab topologies` lists them.
    static let all: [LabTopology] = [
        uniform(name: "2x2", summary: "2 nodes x 2 CPUs x 2 GiB, distance 21",
                nodes: 2, cpusPerNode: 2, memoryMiB: 2048),
        uniform(name: "4x1", summary: "4 nodes x 1 CPU x 1 GiB, distance 21",
                nodes: 4, cpusPerNode: 1, memoryMiB: 1024),
        uniform(name: "2x2+mem",
                summary: "2x2 plus a CPU-less 1 GiB node at distance 30 (a CXL or PMEM tier)",
                nodes: 2, cpusPerNode: 2, memoryMiB: 2048)
            .addingMemoryNode(memoryMiB: 1024, distance: 30),
        uniform(name: "8x1", summary: "8 nodes x 1 CPU x 512 MiB, distance 21 (groups, scale)",
                nodes: 8, cpusPerNode: 1, memoryMiB: 512),
    ]

    static func named(_ name: String) -> LabTopology? {
        all.first { $0.name == name }
    }

    /// N nodes with the same CPUs and memory, CPUs numbered node by node,
    /// every remote node at distance 21 (a typical two-socket SLIT value).
    static func uniform(name: String, summary: String, nodes count: Int,
                        cpusPerNode: Int, memoryMiB: Int) -> LabTopology {
        let nodes = (0..<count).map { node in
            LabNode(cpus: Array(node * cpusPerNode..<(node + 1) * cpusPerNode), memoryMiB: memoryMiB)
        }
        let distances = (0..<count).map { i in (0..<count).map { j in i == j ? 10 : 21 } }
        return LabTopology(name: name, summary: summary, nodes: nodes, distances: distances)
    }

    /// This topology plus one node that has memory and no CPU, at `distance`
    /// from every other node.
    func addingMemoryNode(memoryMiB: Int, distance: Int) -> LabTopology {
        var grown = self
        grown.distances = distances.map { $0 + [distance] }
        grown.distances.append(Array(repeating: distance, count: nodes.count) + [10])
        grown.nodes.append(LabNode(cpus: [], memoryMiB: memoryMiB))
        return grown
    }
}

extension LabTopology {
    /// The QEMU options that give the guest exactly this topology: one RAM
    /// backend per node, a `-numa node` per node (no `cpus=` for a memory-only
    /// node) and one `-numa dist` per pair (QEMU mirrors it for the reverse).
    var qemuArguments: [String] {
        var args = ["-m", "\(memoryMiB)M", "-smp", smp]
        for (id, node) in nodes.enumerated() {
            args += ["-object", "memory-backend-ram,id=mem\(id),size=\(node.memoryMiB)M"]
            var numa = "node,nodeid=\(id),memdev=mem\(id)"
            if let cpuList = Self.cpuList(node.cpus) { numa += ",cpus=\(cpuList)" }
            args += ["-numa", numa]
        }
        for i in nodes.indices {
            for j in nodes.indices where j > i {
                args += ["-numa", "dist,src=\(i),dst=\(j),val=\(distances[i][j])"]
            }
        }
        return args
    }

    /// One socket per node with CPUs. QEMU's default puts every CPU in one
    /// socket, sharing a last-level cache across nodes, which the kernel warns
    /// about ("llc-sibling … is not on the same node") and builds odd
    /// scheduling domains from. Uneven nodes get one socket per CPU.
    var smp: String {
        let perNode = Set(nodes.map(\.cpus.count).filter { $0 > 0 })
        guard perNode.count == 1, let cores = perNode.first else {
            return "\(cpuCount),sockets=\(cpuCount),cores=1,threads=1"
        }
        return "\(cpuCount),sockets=\(cpuCount / cores),cores=\(cores),threads=1"
    }

    /// `0-1` for a contiguous run, nil for none. The table only builds contiguous
    /// runs; a gap would need one `cpus=` per run, which QEMU also accepts.
    static func cpuList(_ cpus: [Int]) -> String? {
        guard let first = cpus.first, let last = cpus.last else { return nil }
        return first == last ? "\(first)" : "\(first)-\(last)"
    }

    /// A human-readable description for `numa-lab topologies`.
    var listing: String {
        var lines = ["\(name): \(summary)"]
        for (id, node) in nodes.enumerated() {
            let cpus = Self.cpuList(node.cpus) ?? "none"
            lines.append("  node \(id): cpus \(cpus), \(node.memoryMiB) MiB, distances \(distances[id].map(String.init).joined(separator: " "))")
        }
        return lines.joined(separator: "\n")
    }
}
