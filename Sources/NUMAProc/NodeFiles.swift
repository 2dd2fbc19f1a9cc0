import NUMAModel

/// The files of /sys/devices/system/node: one folder per node (node0,
/// node2, … ids may be sparse) and the lists of online, possible, has_cpu
/// and has_memory nodes.
public enum NodeFiles {
    /// "/sys/devices/system/node" under a sysfs root, so tests can use a fixture tree.
    public static func nodeRoot(sysRoot: String = "/sys") -> String {
        sysRoot + "/devices/system/node"
    }

    /// The folder of one node: "/sys/devices/system/node/node2".
    public static func nodeDirectory(_ node: NodeID, sysRoot: String = "/sys") -> String {
        nodeRoot(sysRoot: sysRoot) + "/node\(node.rawValue)"
    }

    /// A node's meminfo: "Node 0 MemTotal:   5857860 kB" lines, keyed by the
    /// name ("MemTotal", "Active(anon)"). Values with a kB unit are in bytes;
    /// those without one (HugePages_Total, HugePages_Free) are counts, as printed.
    /// Lines without the "Node N" prefix (/proc/meminfo's shape) are accepted too.
    public static func parseMeminfo(_ text: String, source: String = "meminfo") throws(ProcParseError) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            var rest = ProcText.trimmed(line.bytes)
            if ProcText.hasPrefix(rest, "Node ") {
                // Drop "Node N ".
                let fields = ProcText.fields(rest)
                guard fields.count >= 3, ProcText.decimal(fields[1]) != nil else {
                    throw line.fail("bad node prefix in \(ProcText.quoted(line.bytes))")
                }
                rest = rest[fields[2].startIndex...]
            }
            guard let colon = rest.firstIndex(of: UInt8(ascii: ":")) else {
                throw line.fail("expected \"Key: value\", got \(ProcText.quoted(line.bytes))")
            }
            let key = rest[rest.startIndex..<colon]
            let value = rest[(colon + 1)...]
            guard !key.isEmpty, key.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw line.fail("bad key \(ProcText.quoted(key))")
            }
            let parts = ProcText.fields(value)
            let number: UInt64?
            switch parts.count {
            case 1: number = ProcText.decimal(parts[0])
            case 2: number = ProcText.kilobytes(value)
            default: number = nil
            }
            guard let number else { throw line.fail("bad value \(ProcText.quoted(value))") }
            result[ProcText.string(key)] = number
        }
        guard !result.isEmpty else { throw ProcParseError(source: source, line: nil, reason: "empty") }
        return result
    }

    /// A node's distance file: the SLIT row, "10 21 21", in node-id order of
    /// the online nodes (not indexed by id when ids are sparse).
    public static func parseDistance(_ text: String, source: String = "distance") throws(ProcParseError) -> [Int] {
        let lines = ProcText.lines(text, source: source).filter { !$0.isBlank }
        guard let line = lines.first else { throw ProcParseError(source: source, line: nil, reason: "empty") }
        guard lines.count == 1 else { throw lines[1].fail("expected one line of distances") }
        var result: [Int] = []
        for field in line.fields {
            // SLIT distances are one byte; 10 is local, 255 unreachable.
            guard let value = ProcText.decimal(field), value <= 255 else {
                throw line.fail("bad distance \(ProcText.quoted(field))")
            }
            result.append(Int(value))
        }
        return result
    }

    /// A node list file ("online", "has_cpu", "has_memory": "0-1,3"); empty is no nodes.
    public static func parseNodeList(_ text: String, source: String = "online") throws(ProcParseError) -> [NodeID] {
        do {
            return try parseIDList(text).sorted().map { NodeID($0) }
        } catch {
            throw ProcParseError(source: source, line: 1, reason: error.description)
        }
    }
}
