import NUMAModel

/// The kernel NUMA balancer's per-task state, from the tail of
/// /proc/pid/sched or /proc/pid/task/tid/sched (kernel/sched/debug.c,
/// sched_show_numa). The file needs CONFIG_SCHED_DEBUG; the numa lines need
/// CONFIG_NUMA_BALANCING, and count only while kernel.numa_balancing is on.
public struct SchedNUMA: Hashable, Sendable {
    /// mm->numa_scan_seq: how many times the scanner has passed over the mm
    /// (absent for a task without an mm).
    public var scanSeq: Int?
    public var pagesMigrated: UInt64?
    /// numa_preferred_nid; nil when the kernel prints -1 (none yet).
    public var preferredNode: NodeID?
    public var totalFaults: UInt64?
    /// The node of the CPU the task is on.
    public var currentNode: NodeID?
    /// numa_group_id; nil when 0, which the kernel prints for "no group".
    public var groupID: UInt64?

    /// One "numa_faults node=…" line. These are the decayed MEMORY faults
    /// (faults on pages that live on `node`), split private/shared, for the
    /// task and for its numa_group.
    public struct NodeFaults: Hashable, Sendable {
        public var node: NodeID
        public var taskPrivate: UInt64
        public var taskShared: UInt64
        public var groupPrivate: UInt64
        public var groupShared: UInt64

        public init(node: NodeID, taskPrivate: UInt64, taskShared: UInt64,
                    groupPrivate: UInt64, groupShared: UInt64) {
            self.node = node
            self.taskPrivate = taskPrivate
            self.taskShared = taskShared
            self.groupPrivate = groupPrivate
            self.groupShared = groupShared
        }
    }

    public var nodeFaults: [NodeFaults]
    /// Whether any numa line was present (CONFIG_NUMA_BALANCING).
    public var hasNUMALines: Bool

    public init(scanSeq: Int? = nil, pagesMigrated: UInt64? = nil, preferredNode: NodeID? = nil,
                totalFaults: UInt64? = nil, currentNode: NodeID? = nil, groupID: UInt64? = nil,
                nodeFaults: [NodeFaults] = [], hasNUMALines: Bool = false) {
        self.scanSeq = scanSeq
        self.pagesMigrated = pagesMigrated
        self.preferredNode = preferredNode
        self.totalFaults = totalFaults
        self.currentNode = currentNode
        self.groupID = groupID
        self.nodeFaults = nodeFaults
        self.hasNUMALines = hasNUMALines
    }
}

public enum Sched {
    /// Parses a sched file. Lines are the header "comm (pid, #threads: n)",
    /// a rule of dashes, "key : value" lines, and the numa lines. Other keys
    /// are skipped; a line of none of these shapes, or with control or
    /// non-ASCII bytes outside the header, is garbage. The header is optional
    /// so that the numa lines alone parse.
    public static func parse(_ text: String, source: String = "sched") throws(ProcParseError) -> SchedNUMA {
        var result = SchedNUMA()
        var sawLine = false
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            sawLine = true
            // The header holds the comm, which may be anything; every other line is plain ASCII.
            if line.number == 1, ProcText.fields(line.bytes).contains(where: { ProcText.equals($0, "#threads:") }) {
                continue
            }
            guard line.isPrintableASCII else { throw line.fail("not text: \(ProcText.quoted(line.bytes))") }
            if line.hasPrefix("numa_faults ") {
                result.nodeFaults.append(try nodeFaults(line))
                result.hasNUMALines = true
            } else if line.hasPrefix("current_node=") {
                try currentNode(line, into: &result)
                result.hasNUMALines = true
            } else if let (key, value) = line.split(at: UInt8(ascii: ":")) {
                let name = ProcText.trimmed(key)
                guard !name.isEmpty, !name.contains(where: ProcText.isSpace) else {
                    throw line.fail("bad key \(ProcText.quoted(key))")
                }
                try keyValue(name, ProcText.trimmed(value), line: line, into: &result)
            } else if line.bytes.allSatisfy({ $0 == UInt8(ascii: "-") }) || line.hasPrefix("numa_") {
                continue  // the rule under the header; older kernels' "numa_faults_memory, …"
            } else {
                throw line.fail("unexpected \(ProcText.quoted(line.bytes))")
            }
        }
        guard sawLine else { throw ProcParseError(source: source, line: nil, reason: "empty") }
        return result
    }

    static func keyValue(_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>, line: ProcLine,
                         into result: inout SchedNUMA) throws(ProcParseError) {
        let name = ProcText.string(key)
        guard ["mm->numa_scan_seq", "numa_pages_migrated", "numa_preferred_nid", "total_numa_faults"]
            .contains(name)
        else { return }
        guard let number = ProcText.signed(value) else {
            throw line.fail("bad \(name) \(ProcText.quoted(value))")
        }
        result.hasNUMALines = true
        switch name {
        case "mm->numa_scan_seq":
            guard let seq = Int(exactly: number), abs(seq) < 1 << 40 else { throw line.fail("absurd \(name)") }
            result.scanSeq = seq
        case "numa_pages_migrated":
            guard number >= 0 else { throw line.fail("negative \(name)") }
            result.pagesMigrated = UInt64(number)
        case "numa_preferred_nid":
            guard number < 1 << 16 else { throw line.fail("absurd \(name) \(number)") }
            result.preferredNode = number < 0 ? nil : NodeID(Int(number))
        default:
            guard number >= 0 else { throw line.fail("negative \(name)") }
            result.totalFaults = UInt64(number)
        }
    }

    /// "current_node=0, numa_group_id=0".
    static func currentNode(_ line: ProcLine, into result: inout SchedNUMA) throws(ProcParseError) {
        var values: [String: Int64] = [:]
        for token in line.fields {
            var pair = token
            if pair.last == UInt8(ascii: ",") { pair = pair.dropLast() }
            guard let eq = pair.firstIndex(of: UInt8(ascii: "=")), let value = ProcText.signed(pair[(eq + 1)...])
            else { throw line.fail("bad \(ProcText.quoted(token))") }
            values[ProcText.string(pair[pair.startIndex..<eq])] = value
        }
        guard let node = values["current_node"], let group = values["numa_group_id"], node < 1 << 16 else {
            throw line.fail("expected current_node= and numa_group_id=, got \(ProcText.quoted(line.bytes))")
        }
        result.currentNode = node < 0 ? nil : NodeID(Int(node))
        result.groupID = group > 0 ? UInt64(group) : nil
    }

    /// "numa_faults node=0 task_private=0 task_shared=0 group_private=0 group_shared=0".
    static func nodeFaults(_ line: ProcLine) throws(ProcParseError) -> SchedNUMA.NodeFaults {
        var values: [String: UInt64] = [:]
        for token in line.fields.dropFirst() {
            guard let eq = token.firstIndex(of: UInt8(ascii: "=")), let value = ProcText.decimal(token[(eq + 1)...])
            else { throw line.fail("bad \(ProcText.quoted(token))") }
            values[ProcText.string(token[token.startIndex..<eq])] = value
        }
        guard let node = values["node"], node < 1 << 16,
              let taskPrivate = values["task_private"], let taskShared = values["task_shared"],
              let groupPrivate = values["group_private"], let groupShared = values["group_shared"]
        else { throw line.fail("incomplete numa_faults line \(ProcText.quoted(line.bytes))") }
        return SchedNUMA.NodeFaults(node: NodeID(Int(node)), taskPrivate: taskPrivate, taskShared: taskShared,
                                    groupPrivate: groupPrivate, groupShared: groupShared)
    }
}

/// A process's kernel fault statistics: its threads' numa_faults summed.
/// `memory[n]` is task_private + task_shared on node n. `cpu` stays empty:
/// the kernel keeps CPU faults (NUMA_CPU) but show_numa_stats prints only
/// the memory ones, so /proc cannot give them; use CPU time per node instead.
/// `groupID` is the first thread's group that is not 0. Nil when no task
/// has numa lines (no CONFIG_NUMA_BALANCING or no CONFIG_SCHED_DEBUG).
public func kernelFaults(summing tasks: [SchedNUMA]) -> KernelFaults? {
    let withNUMA = tasks.filter(\.hasNUMALines)
    guard !withNUMA.isEmpty else { return nil }
    var memory: [NodeID: UInt64] = [:]
    var privateFaults: UInt64 = 0
    var sharedFaults: UInt64 = 0
    for task in withNUMA {
        for faults in task.nodeFaults {
            memory[faults.node, default: 0] &+= faults.taskPrivate &+ faults.taskShared
            privateFaults &+= faults.taskPrivate
            sharedFaults &+= faults.taskShared
        }
    }
    let group = withNUMA.lazy.compactMap(\.groupID).first
    return KernelFaults(memory: memory, cpu: [:], privateFaults: privateFaults,
                        sharedFaults: sharedFaults, groupID: group)
}
