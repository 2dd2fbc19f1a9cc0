import Foundation
import NUMAModel
import NUMASampling

/// What `inspect` reports; its JSON keeps `null` for unknown values (never NaN).
struct InspectResult: Encodable {
    struct NodeRow: Encodable {
        var id: Int
        var pageShare: Double?
        var ci95: Double?
        var cpuShare: Double?
        var exactPageShare: Double?
        var exact: Bool
        /// Share of the node's sampled pages written in the interval (soft-dirty tier).
        var writtenShare: Double?

        enum CodingKeys: String, CodingKey { case id, pageShare, ci95, cpuShare, exactPageShare, writtenShare }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(pageShare, forKey: .pageShare)
            try c.encode(ci95, forKey: .ci95)
            try c.encode(cpuShare, forKey: .cpuShare)
            if exact { try c.encode(exactPageShare ?? 0, forKey: .exactPageShare) }
            try c.encodeIfPresent(writtenShare, forKey: .writtenShare)
        }
    }

    var pid: Int32
    var comm: String
    var samples: Int
    var resident: Int
    var notResident: Int
    var failed: Int
    var locality: Double?
    var intervalSeconds: Double
    var rssBytes: UInt64
    var eligibleBytes: UInt64
    var hugePageBytes: UInt64?
    var probeMillis: Double
    var sampleDesign: SampleDesign
    var effectiveSamples: Double
    var nodes: [NodeRow]
    var accessTiers: AccessTiers
    var events: [String]

    init(report: SamplingReport, topology: Topology, exactShares: [NodeID: Double]?) {
        let o = report.observation
        pid = o.identity.pid
        comm = o.comm
        samples = o.pages.queried
        resident = o.pages.resident
        notResident = o.pages.notResident
        failed = o.pages.failed
        locality = o.locality
        intervalSeconds = o.intervalSeconds
        rssBytes = o.rssBytes
        eligibleBytes = o.eligibleBytes
        hugePageBytes = o.hugePageBytes
        probeMillis = report.probeSeconds * 1000
        sampleDesign = report.design
        effectiveSamples = o.pages.effectiveSampleSize
        let cpu = o.cpuShares
        nodes = topology.nodes.map { node in
            NodeRow(id: node.id.rawValue, pageShare: o.pages.share(of: node.id),
                    ci95: o.pages.ci95(of: node.id), cpuShare: cpu.map { $0[node.id] ?? 0 },
                    exactPageShare: exactShares.map { $0[node.id] ?? 0 }, exact: exactShares != nil,
                    writtenShare: o.writtenPagesByNode.map { written in
                        let sampled = o.pages.pagesByNode[node.id] ?? 0
                        return sampled == 0 ? 0 : Double(written[node.id] ?? 0) / Double(sampled)
                    })
        }
        accessTiers = report.tiers
        events = o.events
    }

    enum CodingKeys: String, CodingKey {
        case pid, comm, samples, resident, notResident, failed, locality, intervalSeconds
        case rssBytes, eligibleBytes, hugePageBytes, probeMillis, sampleDesign, effectiveSamples
        case nodes, accessTiers, events
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pid, forKey: .pid)
        try c.encode(comm, forKey: .comm)
        try c.encode(samples, forKey: .samples)
        try c.encode(resident, forKey: .resident)
        try c.encode(notResident, forKey: .notResident)
        try c.encode(failed, forKey: .failed)
        try c.encode(locality, forKey: .locality)
        try c.encode(intervalSeconds, forKey: .intervalSeconds)
        try c.encode(rssBytes, forKey: .rssBytes)
        try c.encode(eligibleBytes, forKey: .eligibleBytes)
        try c.encode(hugePageBytes, forKey: .hugePageBytes)
        try c.encode(probeMillis, forKey: .probeMillis)
        try c.encode(sampleDesign, forKey: .sampleDesign)
        try c.encode(effectiveSamples, forKey: .effectiveSamples)
        try c.encode(nodes, forKey: .nodes)
        try c.encode(accessTiers, forKey: .accessTiers)
        try c.encode(events, forKey: .events)
    }

    func text(report: SamplingReport) -> String {
        let huge = hugePageBytes.map { ", huge pages \(Output.bytes($0))" } ?? ""
        var lines = [
            "pid \(pid) (\(TerminalText.escaped(comm))): rss \(Output.bytes(rssBytes)), eligible \(Output.bytes(eligibleBytes))\(huge)",
            String(format: "sampled %d pages (%@) with move_pages in %.2f ms: %d resident, %d not resident, %d failed",
                   samples, report.design.description, probeMillis, resident, notResident, failed),
        ]
        let exact = nodes.contains { $0.exact }
        let writes = nodes.contains { $0.writtenShare != nil }
        var rows = [["node", "pages", "95% CI", "cpu"] + (exact ? ["exact (numa_maps)"] : [])
            + (writes ? ["written"] : [])]
        for node in nodes {
            let ci = node.ci95.map { String(format: "±%.1f pp", $0 * 100) } ?? "-"
            rows.append(["\(node.id)", Output.percent(node.pageShare), ci, Output.percent(node.cpuShare)]
                + (exact ? [Output.percent(node.exactPageShare)] : [])
                + (writes ? [Output.percent(node.writtenShare)] : []))
        }
        lines.append(Output.table(rows))
        let localityText = locality.map { String(format: "%.2f", $0) } ?? "none (no CPU used in the interval)"
        lines.append(String(format: "locality: %@ (Σ page share × CPU share, over %.2f s)",
                            localityText, intervalSeconds))
        lines.append("access signal: per-thread CPU time by node; kernel hint faults: "
            + "\(accessTiers.kernelHintFaults); soft-dirty: \(accessTiers.softDirty)")
        lines += events.map { "note: \(TerminalText.escaped($0))" }
        return lines.joined(separator: "\n")
    }
}
