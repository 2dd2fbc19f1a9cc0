import NUMAModel
import NUMAPlacement
import NUMAPolicy

/// What would be done to one process.
public struct ProcessPlan: Encodable, Sendable {
    public enum Treatment: String, Encodable, Sendable {
        case plan, auto, ignore
        case neverActedOn = "never-acted-on"
        case notSampled = "not-sampled"
    }

    public var pid: Int32
    public var comm: String
    public var treatment: Treatment
    public var locality: Double?
    public var bytes: UInt64?
    public var actions: [Action]?
    public var note: String?
    /// Each action in a few words, as `policy plan` prints it.
    public private(set) var summaries: [String] = []

    enum CodingKeys: String, CodingKey { case pid, comm, treatment, locality, bytes, actions, note }

    public init(process: RunningProcess, treatment: Treatment, note: String? = nil, locality: Double? = nil,
         actions: [Action]? = nil, topology: Topology? = nil) {
        pid = process.identity.pid
        comm = process.facts.comm
        self.treatment = treatment
        self.note = note
        self.locality = locality
        self.actions = actions
        bytes = actions.map { $0.reduce(0) { $0 + $1.bytes } }
        summaries = (actions ?? []).map { Self.summary($0, topology: topology) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pid, forKey: .pid)
        try c.encode(comm, forKey: .comm)
        try c.encode(treatment, forKey: .treatment)
        // null, never NaN or absent, when the process used no CPU.
        try c.encode(locality, forKey: .locality)
        try c.encodeIfPresent(bytes, forKey: .bytes)
        try c.encodeIfPresent(actions, forKey: .actions)
        try c.encodeIfPresent(note, forKey: .note)
    }

    /// "set affinity to node 0 CPUs 0-1", "move 96.0 MiB to node 0".
    public static func summary(_ action: Action, topology: Topology?) -> String {
        switch action {
        case .setAffinity(let a):
            let nodes = (a.nodes.count == 1 ? "node " : "nodes ") + NodeList.format(a.nodes)
            return "set affinity to \(nodes) CPUs \(a.cpus)"
        case .moveRanges(let m):
            return "move \(ByteCount.text(m.bytes)) to node \(m.to)"
        case .movePages(let m):
            return "move \(ByteCount.text(m.bytes)) to node \(m.to)"
        case .setObjectPolicy(let p):
            let nodes = (p.nodes.count == 1 ? "node " : "nodes ") + NodeList.format(p.nodes)
            let mode = ["preferred": "MPOL_PREFERRED", "interleave": "MPOL_INTERLEAVE", "bind": "MPOL_BIND"][p.policy.rawValue] ?? ""
            return "shared memory \(p.objectKey): \(mode) on \(nodes), move \(ByteCount.text(p.bytes))"
        case .swap(let s):
            return "swap with pid \(s.b.pid)"
        }
    }
}
