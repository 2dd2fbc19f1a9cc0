import NUMAModel

/// Reads a policy's `placement` section and checks that its keys fit the
/// mode: pin, interleave and preferred name nodes; auto chooses them itself
/// and ignore does nothing, so neither takes nodes; group and spread shape
/// auto's choices only. With a topology, the nodes are checked against it.
enum PlacementReader {
    static let keys = ["mode", "nodes", "cpuNodes", "group", "spread"]

    static let maxNodeID = NodeList.maxNodeID

    static func read(_ value: YAMLValue, topology: Topology?) -> Placement? {
        let before = value.diagnostics.errors.count
        guard let section = value.mapping(allowed: keys) else { return nil }
        guard let modeValue = section.required("mode"), let mode = modeValue.choice(PlacementPolicyMode.self) else {
            return nil
        }
        var placement = Placement(mode: mode)
        let nodesValue = section["nodes"]
        if let nodesValue {
            placement.nodes = nodeChoice(nodesValue)
            if !mode.needsNodes {
                let reason = mode == .auto ? "auto chooses the nodes itself" : "ignore leaves the process alone"
                nodesValue.error("mode \(mode.rawValue) takes no nodes: \(reason); remove nodes, "
                                 + "or use pin, interleave or preferred")
            } else if placement.nodes == .all, mode != .interleave {
                nodesValue.error("nodes: all is for interleave; \(mode.rawValue) needs a list of nodes")
            }
        } else if mode.needsNodes {
            modeValue.error("mode \(mode.rawValue) needs nodes (e.g. nodes: [0])")
        }
        if let cpuNodesValue = section["cpuNodes"] {
            placement.cpuNodes = nodeList(cpuNodesValue)
            if mode != .pin {
                cpuNodesValue.error("cpuNodes is for mode pin only (the threads' nodes when they differ from nodes)")
            }
        }
        if let group = section["group"] {
            placement.group = group.choice(Grouping.self) ?? .sharedMemory
            if mode != .auto { group.error(autoOnly("group", mode)) }
        }
        if let spread = section["spread"] {
            placement.spread = spread.choice(Spread.self) ?? .pack
            if mode != .auto {
                spread.error(autoOnly("spread", mode))
            } else if placement.spread == .onePerNode, placement.group == .none {
                spread.error("spread one-per-node places the members of a group one per node, but group is none; "
                             + "use group: parent (the ranks one launcher started) or group: cgroup (one job)")
            }
        }
        if let topology, value.diagnostics.errors.count == before {
            checkNodes(placement, section: section, topology: topology)
        }
        return value.diagnostics.errors.count == before ? placement : nil
    }

    private static func autoOnly(_ key: String, _ mode: PlacementPolicyMode) -> String {
        "\(key) shapes mode auto's choices; with mode \(mode.rawValue) it has no effect: remove it"
    }

    /// `all`, a list of node ids, or a node list in numactl's syntax ("0-3,5").
    private static func nodeChoice(_ value: YAMLValue) -> NodeChoice? {
        if let text = listText(value) {
            guard let parsed = parseText(text, value) else { return nil }
            if parsed == .all { return .all }
            return nodeIDs(parsed, value).map(NodeChoice.list)
        }
        guard case .sequence = value.node else {
            value.expected("a list of node ids (e.g. [0, 1] or \"0-3,5\") or all")
            return nil
        }
        return nodeList(value).map(NodeChoice.list)
    }

    /// The scalar's text, when the value is one (not a YAML list).
    private static func listText(_ value: YAMLValue) -> String? {
        guard value.kind == .string || value.kind == .other || value.kind == .integer else { return nil }
        return value.node.scalar?.string
    }

    private static func parseText(_ text: String, _ value: YAMLValue) -> NodeList? {
        do { return try NodeList.parse(text) } catch {
            value.error(error.description)
            return nil
        }
    }

    /// A policy names its nodes outright: "all" (interleave) and "!N" need
    /// the machine's nodes, which validation on a build host does not know.
    private static func nodeIDs(_ list: NodeList, _ value: YAMLValue) -> [NodeID]? {
        guard case .only(let ids) = list else {
            value.error(list == .all ? "all is for interleave's nodes only; list the nodes"
                        : "\"!\" (every node but these) needs the machine's nodes: list the nodes in the policy")
            return nil
        }
        return ids.sorted().map { NodeID($0) }
    }

    /// A non-empty list of distinct node ids, each 0…1023.
    static func nodeList(_ value: YAMLValue) -> [NodeID]? {
        if let text = listText(value) { return parseText(text, value).flatMap { nodeIDs($0, value) } }
        guard let elements = value.list() else { return nil }
        if elements.isEmpty {
            value.error("empty list of nodes")
            return nil
        }
        var seen: [Int: SourceLocation] = [:]
        var ids: [NodeID] = []
        var bad = false
        for element in elements {
            guard let id = element.int() else { bad = true; continue }
            if id < 0 || id > maxNodeID {
                element.error(id < 0 ? "a node id cannot be negative, got \(id)"
                              : "node \(id) is beyond the kernel's limit of \(maxNodeID + 1) nodes")
                bad = true
            } else if let first = seen[id] {
                element.error("node \(id) is listed twice (first at \(first.line):\(first.column))")
                bad = true
            } else {
                seen[id] = element.location
                ids.append(NodeID(id))
            }
        }
        return bad ? nil : ids
    }

    /// Each topology problem at the element that names the node, or at the list.
    private static func checkNodes(_ placement: Placement, section: YAMLMapping, topology: Topology) {
        for problem in PolicyValidation.problems(placement, on: topology) {
            guard let list = section[problem.field.rawValue] else { continue }
            // A YAML list names the node at its element; a "0-3" string as a whole.
            let element = problem.node.flatMap { id -> YAMLValue? in
                guard case .sequence = list.node else { return nil }
                return list.list()?.first { $0.node.int == id.rawValue }
            }
            (element ?? list).error(problem.message)
        }
    }
}
