import NUMAModel

/// The checks of a policy's nodes against a machine. They are optional: a
/// fleet's policies are often validated on a build host whose nodes differ
/// from the servers'. The rules follow what the kernel accepts:
///
/// - every node must exist (set_mempolicy and sched_setaffinity refuse others);
/// - memory goes only to nodes with memory (a memory-less node has no zone to
///   allocate from);
/// - threads run only on nodes with CPUs: a CPU-less node (a CXL or PMEM tier)
///   may take a pinned or preferred process's memory, never its threads;
/// - pin needs at least one node with CPUs and one with memory.
public enum PolicyValidation {
    /// A problem with one node of a placement, or with the list as a whole (`node` nil).
    public struct NodeProblem: Hashable, Sendable {
        public enum Field: String, Hashable, Sendable { case nodes, cpuNodes }
        public var field: Field
        public var node: NodeID?
        public var message: String
    }

    /// What is wrong with `placement` on a machine of this topology; empty when nothing.
    public static func problems(_ placement: Placement, on topology: Topology) -> [NodeProblem] {
        guard case let .list(nodes) = placement.nodes else { return [] }
        var problems: [NodeProblem] = []
        let known = Set(topology.nodeIDs)
        for (field, list) in [(NodeProblem.Field.nodes, nodes), (.cpuNodes, placement.cpuNodes ?? [])] {
            for id in list where !known.contains(id) {
                problems.append(NodeProblem(field: field, node: id, message:
                    "node \(id) does not exist on this machine (nodes: \(NodeList.format(topology.nodeIDs)))"))
            }
        }
        if !problems.isEmpty { return problems }
        switch placement.mode {
        case .interleave, .preferred:
            problems += memoryless(nodes, field: .nodes, on: topology, mode: placement.mode)
        case .pin:
            problems += pinProblems(nodes, cpuNodes: placement.cpuNodes, on: topology)
        case .auto, .ignore:
            break
        }
        return problems
    }

    private static func pinProblems(_ nodes: [NodeID], cpuNodes: [NodeID]?, on topology: Topology) -> [NodeProblem] {
        var problems: [NodeProblem] = []
        if let cpuNodes {
            for id in cpuNodes where topology.node(id)?.hasCPUs == false {
                problems.append(NodeProblem(field: .cpuNodes, node: id, message:
                    "node \(id) has no CPUs (a memory-only node such as CXL or PMEM): threads cannot run there"))
            }
            problems += memoryless(nodes, field: .nodes, on: topology, mode: .pin)
            return problems
        }
        let list = nodes.count == 1 ? "node \(nodes[0]) has" : "none of nodes \(NodeList.format(nodes)) has"
        if !nodes.contains(where: { topology.node($0)?.hasCPUs == true }) {
            problems.append(NodeProblem(field: .nodes, node: nil, message:
                "\(nodes.count == 1 ? list + " no" : list) CPUs (memory-only): pin needs CPUs for the threads; "
                + "add a node with CPUs, or name the threads' nodes in cpuNodes"))
        }
        if !nodes.contains(where: { topology.node($0)?.hasMemory == true }) {
            problems.append(NodeProblem(field: .nodes, node: nil, message:
                "\(nodes.count == 1 ? list + " no" : list) memory: pin needs a node for the memory"))
        }
        return problems
    }

    private static func memoryless(_ nodes: [NodeID], field: NodeProblem.Field, on topology: Topology,
                                   mode: PlacementPolicyMode) -> [NodeProblem] {
        nodes.filter { topology.node($0)?.hasMemory == false }.map { id in
            NodeProblem(field: field, node: id, message:
                "node \(id) has no memory (a CPU-only node): \(mode.rawValue) places memory only on nodes with memory")
        }
    }
}

extension PolicyValidation {
    /// The names a policy may have: lowercase letters, digits, '-' and '.',
    /// starting and ending with a letter or digit, at most 63 characters, so
    /// a name is safe as a metrics label, a file name and a journal field.
    public static func nameProblem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
        }
        let endsWell = [name.unicodeScalars.first, name.unicodeScalars.last].allSatisfy {
            $0.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) } ?? false
        }
        guard !name.isEmpty, name.count <= 63, allowed, endsWell else {
            return "\"\(name)\" is not a valid policy name: use lowercase letters, digits, '-' and '.', "
                + "starting and ending with a letter or digit, at most 63 characters"
        }
        return nil
    }

    /// The kernel keeps a task name in TASK_COMM_LEN (16) bytes with the
    /// NUL, so a longer `comm` never matches: say so, and what it would be.
    public static func commProblem(_ comm: String) -> String? {
        let bytes = Array(comm.utf8)
        guard bytes.count > 15 else { return nil }
        let kept = String(decoding: bytes.prefix(15), as: UTF8.self)
        return "\"\(comm)\" is \(bytes.count) bytes but the kernel keeps 15 of a task name (TASK_COMM_LEN), "
            + "so it never matches; write \"\(kept)\" or match on exe or cmdline"
    }

    /// systemd's unit types a process can be in (or run from, during ExecStart
    /// of a socket, mount or swap unit). A slice holds no process directly.
    static let unitSuffixes = [".service", ".scope", ".socket", ".mount", ".swap"]

    public static func unitProblem(_ unit: String) -> String? {
        if unit.hasSuffix(".slice") {
            return "\"\(unit)\" is a slice: processes live in its services and scopes; "
                + "match the slice with cgroup: [/\(unit)] (or its full path)"
        }
        guard unitSuffixes.contains(where: { unit.hasSuffix($0) }), !unit.contains("/") else {
            return "\"\(unit)\" is not a systemd unit name: it needs a type suffix such as "
                + "\"\(unit.split(separator: "/").last.map(String.init) ?? unit).service\" or \".scope\""
        }
        return nil
    }
}
