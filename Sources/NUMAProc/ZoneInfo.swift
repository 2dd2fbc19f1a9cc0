import NUMAModel

/// A node's reserve, from /proc/zoneinfo: its populated zones' watermarks
/// and free pages summed, in pages. The kernel reclaims when free memory
/// falls below `high`, so a migration must leave free memory above it.
public struct ZoneWatermarks: Hashable, Sendable {
    public var node: NodeID
    public var minPages: UInt64
    public var lowPages: UInt64
    public var highPages: UInt64
    public var freePages: UInt64
    public var managedPages: UInt64

    public init(node: NodeID, minPages: UInt64 = 0, lowPages: UInt64 = 0, highPages: UInt64 = 0,
                freePages: UInt64 = 0, managedPages: UInt64 = 0) {
        self.node = node
        self.minPages = minPages
        self.lowPages = lowPages
        self.highPages = highPages
        self.freePages = freePages
        self.managedPages = managedPages
    }
}

public enum ZoneInfo {
    /// One zone as the parser meets its lines.
    struct Zone {
        var node: NodeID
        var name: String
        var header: Int
        var values: [String: UInt64] = [:]
    }

    static let required = ["free", "min", "low", "high", "managed"]

    /// Parses /proc/zoneinfo (mm/vmstat.c, zoneinfo_show_print). Each zone
    /// starts with "Node N, zone NAME"; its "pages free", "min", "low", "high"
    /// and "managed" lines are read, everything else (per-node stats,
    /// protection, pagesets with their "high:" lines) is skipped. Zones with
    /// no managed pages (an empty Movable or Device zone still prints
    /// watermarks) are left out of the sums; a node whose zones are all empty
    /// is still listed, with zeros. A zone missing a watermark is truncated.
    public static func parse(_ text: String, source: String = "zoneinfo") throws(ProcParseError) -> [NodeID: ZoneWatermarks] {
        var result: [NodeID: ZoneWatermarks] = [:]
        var zone: Zone?
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            guard line.isPrintableASCII else { throw line.fail("not text: \(ProcText.quoted(line.bytes))") }
            if line.hasPrefix("Node ") {
                if let finished = zone { try add(finished, to: &result, source: source) }
                let started = try header(line)
                if result[started.node] == nil { result[started.node] = ZoneWatermarks(node: started.node) }
                zone = started
                continue
            }
            guard zone != nil else { throw line.fail("expected \"Node N, zone NAME\", got \(ProcText.quoted(line.bytes))") }
            let fields = line.fields
            guard fields.count >= 2 else { continue }
            var key = fields[0]
            var value = fields[1]
            if ProcText.equals(fields[0], "pages"), ProcText.equals(fields[1], "free") {
                guard fields.count >= 3 else { throw line.fail("no value in \(ProcText.quoted(line.bytes))") }
                key = fields[1]
                value = fields[2]
            } else if !["min", "low", "high", "managed"].contains(where: { ProcText.equals(key, $0) }) {
                continue
            }
            guard let number = ProcText.decimal(value), number < 1 << 52 else {
                throw line.fail("bad \(ProcText.string(key)) \(ProcText.quoted(value))")
            }
            zone?.values[ProcText.string(key)] = number
        }
        guard let last = zone else { throw ProcParseError(source: source, line: nil, reason: "no \"Node N, zone\" line") }
        try add(last, to: &result, source: source)
        return result
    }

    /// "Node 0, zone      DMA".
    static func header(_ line: ProcLine) throws(ProcParseError) -> Zone {
        let fields = line.fields
        guard fields.count == 4, fields[1].last == UInt8(ascii: ","), ProcText.equals(fields[2], "zone"),
              let node = ProcText.decimal(fields[1].dropLast()), node < 1 << 16
        else { throw line.fail("bad zone header \(ProcText.quoted(line.bytes))") }
        return Zone(node: NodeID(Int(node)), name: ProcText.string(fields[3]), header: line.number)
    }

    static func add(_ zone: Zone, to result: inout [NodeID: ZoneWatermarks], source: String) throws(ProcParseError) {
        for key in required where zone.values[key] == nil {
            throw ProcParseError(source: source, line: zone.header,
                                 reason: "zone \(zone.name) of node \(zone.node) has no \(key) (truncated?)")
        }
        guard let managed = zone.values["managed"], managed > 0 else { return }
        var sums = result[zone.node] ?? ZoneWatermarks(node: zone.node)
        // Each value is below 2^52, so only thousands of garbage zones could overflow.
        func sum(_ a: UInt64, _ key: String) throws(ProcParseError) -> UInt64 {
            let (total, overflow) = a.addingReportingOverflow(zone.values[key] ?? 0)
            guard !overflow else {
                throw ProcParseError(source: source, line: zone.header, reason: "absurd \(key) sum for node \(zone.node)")
            }
            return total
        }
        sums.minPages = try sum(sums.minPages, "min")
        sums.lowPages = try sum(sums.lowPages, "low")
        sums.highPages = try sum(sums.highPages, "high")
        sums.freePages = try sum(sums.freePages, "free")
        sums.managedPages = try sum(sums.managedPages, "managed")
        result[zone.node] = sums
    }
}
