/// A node list as numactl writes it, the one syntax of every numabalance
/// command and of a policy's `nodes`: "0", "0,2", "0-3,5", "all" (every
/// node), "!1" or "!0-1" (every node but these). numactl's relative "+N"
/// and device names ("netdev:eth0") are not read.
public enum NodeList: Hashable, Sendable, CustomStringConvertible {
    case all
    case only(Set<Int>)
    case allBut(Set<Int>)

    /// Parses the text; an empty list and an id beyond the kernel's 1,024
    /// nodes are errors.
    public static func parse(_ text: String) throws(NodeListError) -> NodeList {
        let trimmed = text.trimmingWhitespace()
        if trimmed == "all" { return .all }
        let inverted = trimmed.hasPrefix("!")
        let body = inverted ? String(trimmed.dropFirst()) : trimmed
        let ids: Set<Int>
        do { ids = try parseIDList(body) } catch { throw NodeListError(text: text, problem: .syntax) }
        guard !ids.isEmpty else { throw NodeListError(text: text, problem: .empty) }
        if let beyond = ids.first(where: { $0 > Self.maxNodeID }) {
            throw NodeListError(text: text, problem: .beyondLimit(beyond))
        }
        return inverted ? .allBut(ids) : .only(ids)
    }

    /// The highest node id Linux can have (MAX_NUMNODES with NODES_SHIFT 10).
    public static let maxNodeID = 1023

    /// The nodes it names among the machine's, sorted; ids the machine lacks
    /// are kept (for the caller to name them).
    public func resolve(among machine: [NodeID]) -> [NodeID] {
        switch self {
        case .all: return machine.sorted()
        case .only(let ids): return ids.sorted().map { NodeID($0) }
        case .allBut(let ids): return machine.filter { !ids.contains($0.rawValue) }.sorted()
        }
    }

    /// Nodes in the kernel's list style ("0-3,8"), "none" for no node.
    public static func format(_ nodes: [NodeID]) -> String {
        let ids = Set(nodes.map(\.rawValue)).sorted()
        return ids.isEmpty ? "none" : formatIDList(ids)
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .only(let ids): return formatIDList(ids.sorted())
        case .allBut(let ids): return "!" + formatIDList(ids.sorted())
        }
    }
}

public struct NodeListError: Error, Equatable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        case syntax
        case empty
        case beyondLimit(Int)
    }

    public let text: String
    public let problem: Problem

    public var description: String {
        let quoted = "\"\(text.prefix(80))\""
        switch problem {
        case .syntax:
            return "not a node list: \(quoted) (numactl's syntax: 0,2 or 0-3,5, all, !1 for every node but 1)"
        case .empty: return "no node in \(quoted)"
        case .beyondLimit(let id):
            return "node \(id) is beyond the kernel's limit of \(NodeList.maxNodeID + 1) nodes"
        }
    }
}
