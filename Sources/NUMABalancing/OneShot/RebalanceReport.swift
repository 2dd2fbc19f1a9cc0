import Foundation
import NUMAActuation
import NUMAModel

/// What `rebalance` reports; `--json` prints it with sorted keys and null
/// (never NaN) for unknown localities.
public struct RebalanceReport: Encodable, Sendable {
    public struct NodeShare: Encodable, Sendable {
        public var id: Int
        public var pageShare: Double?
        public var cpuShare: Double?
    }

    public struct Side: Encodable, Sendable {
        public var locality: Double?
        public var nodes: [NodeShare]

        enum CodingKeys: String, CodingKey { case locality, nodes }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(locality, forKey: .locality)
            try c.encode(nodes, forKey: .nodes)
        }
    }

    public struct ActionRow: Encodable, Sendable {
        public var kind: String
        public var pid: Int32
        public var rule: String
        /// The engine's reason, in words.
        public var reason: String
        public var status: String
        public var summary: String
        public var method: String?
        public var destination: Int?
        public var cpus: [Int]?
        public var bytesMoved: UInt64
        public var pagesMoved: Int
        public var notMoved: [PagesNotMoved]
        public var seconds: Double
        public var expectedLocality: Double?
        public var error: String?
    }

    public struct DeferredRow: Encodable, Sendable {
        public var rule: String
        public var reason: String
    }

    public var pid: Int32
    public var comm: String
    public var mode: String
    public var dryRun: Bool
    /// Which placement was chosen and why, in one sentence.
    public var decision: String
    public var before: Side
    public var after: Side
    public var bytesMoved: UInt64
    public var pagesMoved: Int
    public var pagesNotMoved: Int
    public var notMoved: [PagesNotMoved]
    public var seconds: Double
    public var actions: [ActionRow]
    public var deferred: [DeferredRow]
    public var missingCapabilities: [String]
    public var journal: String?
    public var exitCode: Int32
    public var error: String?

    public init(pid: Int32, comm: String, mode: PlacementMode, dryRun: Bool, topology: Topology, before: Observation,
         after: Observation?, plan: Plan, records: [ActionRecord], missing: [String], seconds: Double,
         journal: String?) {
        self.pid = pid
        self.comm = comm
        self.mode = mode.rawValue
        self.dryRun = dryRun
        self.before = Self.side(before, topology: topology)
        self.after = after.map { Self.side($0, topology: topology) } ?? Side(locality: nil, nodes: [])
        actions = records.map(Self.row)
        deferred = plan.deferred.map { DeferredRow(rule: $0.reason.rule.rawValue, reason: $0.reason.description) }
        bytesMoved = records.reduce(0) { $0 + $1.outcome.bytesMoved }
        pagesMoved = records.reduce(0) { $0 + $1.outcome.pagesMoved }
        var merged: [String: Int] = [:]
        for record in records { for item in record.outcome.notMoved { merged[item.reason, default: 0] += item.pages } }
        notMoved = merged.keys.sorted().compactMap { key in merged[key].map { PagesNotMoved(reason: key, pages: $0) } }
        pagesNotMoved = notMoved.reduce(0) { $0 + $1.pages }
        self.seconds = seconds
        missingCapabilities = missing
        self.journal = journal
        decision = Self.decision(plan: plan, before: before, topology: topology)
        exitCode = Self.exitCode(records, missing: missing)
    }

    /// A report for a rebalance that could not start (exit 1).
    public static func failure(pid: Int32, error: String, exitCode: Int32) -> RebalanceReport {
        var report = RebalanceReport(
            pid: pid, comm: "", mode: .standalone, dryRun: false, topology: Topology(nodes: [], distances: []),
            before: Observation(identity: ProcessIdentity(pid: pid, startTime: 0), comm: "", time: 0,
                                intervalSeconds: 0, pages: .empty, threads: [], allowedCPUs: CPUSet(),
                                allowedNodes: [], rssBytes: 0, eligibleBytes: 0),
            after: nil, plan: Plan(time: 0, mode: .standalone), records: [], missing: [], seconds: 0, journal: nil)
        report.decision = "not done"
        report.exitCode = exitCode
        report.error = error
        report.before = Side(locality: nil, nodes: [])
        return report
    }

    /// 4 when the process exited, 1 on a failure, 3 when pages were left behind, else 0.
    static func exitCode(_ records: [ActionRecord], missing: [String]) -> Int32 {
        let statuses = records.map(\.outcome.status)
        if statuses.contains(.exited) { return 4 }
        if statuses.contains(.failed) || !missing.isEmpty { return 1 }
        if statuses.contains(.partial) || statuses.contains(.stopped) { return 3 }
        return 0
    }

    static func side(_ o: Observation, topology: Topology) -> Side {
        let cpu = o.cpuShares
        return Side(locality: o.locality, nodes: topology.nodes.map { node in
            NodeShare(id: node.id.rawValue, pageShare: o.pages.share(of: node.id), cpuShare: cpu.map { $0[node.id] ?? 0 })
        })
    }

    static func row(_ record: ActionRecord) -> ActionRow {
        let action = record.action
        let outcome = record.outcome
        var destination: Int?
        var cpus: [Int]?
        switch action {
        case .setAffinity(let a): cpus = a.cpus.ids; destination = a.nodes.count == 1 ? a.nodes[0].rawValue : nil
        case .movePages(let a): destination = a.to.rawValue
        case .moveRanges(let a): destination = a.to.rawValue
        case .setObjectPolicy(let a): destination = a.nodes.count == 1 ? a.nodes[0].rawValue : nil
        case .swap(let s): destination = s.aNode.rawValue; cpus = s.aCPUs.ids
        }
        return ActionRow(kind: action.kind, pid: action.processes.first?.pid ?? 0, rule: action.reason.rule.rawValue,
                         reason: action.reason.description, status: outcome.status.rawValue, summary: outcome.summary,
                         method: outcome.method, destination: destination, cpus: cpus,
                         bytesMoved: outcome.bytesMoved, pagesMoved: outcome.pagesMoved, notMoved: outcome.notMoved,
                         seconds: outcome.seconds, expectedLocality: action.reason.expectedLocality, error: outcome.error)
    }
}
