/// How numabalance shares the work with the kernel (DESIGN.md, "Two modes").
public enum PlacementMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// kernel.numa_balancing = 0: numabalance places processes, groups and pages.
    case standalone
    /// kernel.numa_balancing ≠ 0: the kernel places pages per thread; numabalance
    /// places processes and groups and sets the policy of shared objects.
    case hybrid

    /// The mode for a kernel.numa_balancing value (nil: the sysctl is absent).
    /// Only bit 0 (NUMA_BALANCING_NORMAL) makes the kernel place pages between
    /// nodes with CPUs; 2 alone (NUMA_BALANCING_MEMORY_TIERING) scans only
    /// pages on slower, CPU-less tiers and skips the top tier, so private
    /// pages between DRAM nodes are numabalance's to place: standalone.
    public init(numaBalancing value: Int?) {
        self = (value ?? 0) & 1 == 1 ? .hybrid : .standalone
    }
}

/// The rule that decided an action or a deferral. The raw values name the
/// kernel function or constant the rule comes from, where there is one.
public enum PlacementRule: String, Hashable, Sendable, Codable, CaseIterable {
    /// Threads move to the preferred node, which has room (task_numa_migrate).
    case cpuFollowsMemory = "cpu-follows-memory"
    /// A process that fits one node but runs spread is gathered on one node:
    /// its preferred node if it has room, else the best node that has.
    case consolidate = "consolidate"
    /// Two processes exchange nodes; both gain (task_numa_compare, SMALLIMP).
    case swap = "swap"
    /// Pages follow the threads (should_numa_migrate_memory, two-stage filter).
    case memoryFollowsCPU = "memory-follows-cpu"
    /// Pages of a group or of a process spanning nodes are spread over the
    /// active nodes with the 3/4 hysteresis (ACTIVE_NODE_FRACTION).
    case spreadOverActiveNodes = "spread-over-active-nodes"
    /// The shared object of a group gets a memory policy, existing pages moved.
    case sharedObjectPolicy = "shared-object-policy"
    /// numabalance's own pin no longer fits the process: widened to its cpuset.
    case release = "release"
    /// A policy file pins the process: threads on its nodes' CPUs, memory on its nodes.
    case policyPin = "policy-pin"
    /// A policy file prefers nodes for the process's memory (and threads, where allowed).
    case policyPreferred = "policy-preferred"
    /// A policy file interleaves the process's memory over nodes.
    case policyInterleave = "policy-interleave"
    // Rules that defer rather than act.
    case twoStageFilter = "two-stage-filter"
    case capacity = "capacity"
    case reserve = "reserve"
    case budget = "budget"
    case noPingPong = "no-ping-pong"
    case kernelPlacesPages = "kernel-places-pages"
}

/// One number behind a decision, named as the rule names it.
public struct Comparison: Hashable, Sendable, Codable, CustomStringConvertible {
    public var name: String
    public var value: Double

    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }

    public var description: String {
        value == value.rounded() && abs(value) < 1e15
            ? "\(name)=\(Int(value))" : "\(name)=\((value * 1000).rounded() / 1000)"
    }
}

/// Why an action is in the plan: the rule that decided, the numbers it
/// compared, the locality before and expected after, and the cost.
public struct Reason: Hashable, Sendable, Codable, CustomStringConvertible {
    public var rule: PlacementRule
    /// One line a person can read: "goes to its preferred node, which has room".
    public var summary: String
    /// The node things move from and to, where there is one.
    public var source: NodeID?
    public var destination: NodeID?
    public var comparisons: [Comparison]
    public var localityBefore: Double?
    /// Expected locality of the process (or group) once the action is done.
    public var expectedLocality: Double?
    /// Bytes the action moves (0 for a change of affinity).
    public var bytes: UInt64
    /// Seconds the move takes at the MB/s budget.
    public var seconds: Double?

    public init(rule: PlacementRule, summary: String, source: NodeID? = nil, destination: NodeID? = nil,
                comparisons: [Comparison] = [], localityBefore: Double? = nil, expectedLocality: Double? = nil,
                bytes: UInt64 = 0, seconds: Double? = nil) {
        self.rule = rule
        self.summary = summary
        self.source = source
        self.destination = destination
        self.comparisons = comparisons
        self.localityBefore = localityBefore
        self.expectedLocality = expectedLocality
        self.bytes = bytes
        self.seconds = seconds
    }

    public var description: String {
        var text = "[\(rule.rawValue)] \(summary)"
        switch (source, destination) {
        case let (from?, to?): text += " (node \(from) → \(to))"
        case let (nil, to?): text += " (node \(to))"
        case let (from?, nil): text += " (from node \(from))"
        case (nil, nil): break
        }
        if !comparisons.isEmpty { text += " (" + comparisons.map(\.description).joined(separator: ", ") + ")" }
        if let before = localityBefore, let after = expectedLocality {
            text += "; locality \(Percent.whole(before)) → \(Percent.whole(after))"
        }
        return text
    }
}


/// Something the engine wanted to do and did not, and why (budget, reserve,
/// the first stage of the filter): the other half of "explainable".
public struct Deferral: Hashable, Sendable, Codable {
    public var process: ProcessIdentity
    public var reason: Reason

    public init(process: ProcessIdentity, reason: Reason) {
        self.process = process
        self.reason = reason
    }
}

/// When a process should next be sampled: its scan period (update_task_scan_period).
public struct ScanSchedule: Hashable, Sendable, Codable {
    public var process: ProcessIdentity
    public var periodSeconds: Double
    public var nextScan: Double

    public init(process: ProcessIdentity, periodSeconds: Double, nextScan: Double) {
        self.process = process
        self.periodSeconds = periodSeconds
        self.nextScan = nextScan
    }
}

/// The engine's output for one round: ordered actions, each with its reason,
/// what was deferred, and when each observed process is due again.
public struct Plan: Hashable, Sendable, Codable {
    /// The round's time (the engine's input, seconds on a monotonic clock).
    public var time: Double
    public var mode: PlacementMode
    /// In the order the actuator should carry them out: affinity first (cheap),
    /// then memory, each group's shared objects before its private pages.
    public var actions: [Action]
    public var deferred: [Deferral]
    public var scans: [ScanSchedule]

    public init(time: Double, mode: PlacementMode, actions: [Action] = [],
                deferred: [Deferral] = [], scans: [ScanSchedule] = []) {
        self.time = time
        self.mode = mode
        self.actions = actions
        self.deferred = deferred
        self.scans = scans
    }

    /// True when there is nothing to do: the steady state of a balanced system.
    public var isEmpty: Bool { actions.isEmpty }

    /// Bytes the plan moves, summed over its memory actions.
    public var bytesToMove: UInt64 { actions.reduce(0) { $0 + $1.bytes } }
}
