import NUMAModel

/// One policy: which processes it takes (`match`) and what numabalance does
/// with them. A nil field means "the daemon's setting" (see `DaemonConfig`).
public struct Policy: Hashable, Sendable {
    public var name: String
    /// Free text for people; shown by `status` and `policy plan`.
    public var description: String?
    public var match: ProcessMatch
    public var placement: Placement
    public var memory: MemoryRules
    public var sampling: SamplingRules
    public var balancing: BalancingRules
    /// Where the policy was written (its `name`'s value); nil for the built-in default.
    public var source: SourceLocation?

    public init(name: String, description: String? = nil, match: ProcessMatch, placement: Placement,
                memory: MemoryRules = MemoryRules(), sampling: SamplingRules = SamplingRules(),
                balancing: BalancingRules = BalancingRules(), source: SourceLocation? = nil) {
        self.name = name
        self.description = description
        self.match = match
        self.placement = placement
        self.memory = memory
        self.sampling = sampling
        self.balancing = balancing
        self.source = source
    }

    /// The version of the format this code reads.
    public static let apiVersion = "numabalance/v1"
    public static let kind = "Policy"
}

/// Which processes a policy takes. Every criterion given must hold; within a
/// list, any element may (comm: [a, b] takes a or b). At least one criterion
/// is required, or `all: true` to take every process, so a forgotten `match`
/// never silently catches everything.
public struct ProcessMatch: Hashable, Sendable {
    /// Take every process (the default policy's match). Alone if set.
    public var all: Bool = false
    /// Exact task names (/proc/pid/comm, at most 15 bytes).
    public var comm: [String] = []
    /// Executable paths (/proc/pid/exe); `*` and `?` match within one path component.
    public var exe: [String] = []
    /// A regular expression (ICU syntax) searched in the command line, its
    /// arguments joined by single spaces.
    public var cmdline: String?
    /// cgroup v2 paths; a process in the cgroup or below it matches. A
    /// component may use `*` and `?`.
    public var cgroup: [String] = []
    /// User names or numeric uids (the effective uid: the owner of /proc/pid).
    public var user: [UserMatch] = []
    /// systemd units (`postgresql.service`, `user@1000.service`,
    /// `app-firefox-1234.scope`); `*` and `?` allowed.
    public var unit: [String] = []
    /// Resident set size at least this many bytes.
    public var minRSSBytes: UInt64?
    /// CPU used in the last round at least this many CPUs (0.5 = half of one).
    public var minCPU: Double?

    public init() {}

    /// True when no criterion is set (an error in a file).
    public var isEmpty: Bool {
        !all && comm.isEmpty && exe.isEmpty && cmdline == nil && cgroup.isEmpty && user.isEmpty
            && unit.isEmpty && minRSSBytes == nil && minCPU == nil
    }
}

/// A user by name or by uid.
public enum UserMatch: Hashable, Sendable, CustomStringConvertible {
    case name(String)
    case uid(UInt32)

    public var description: String {
        switch self {
        case let .name(name): return name
        case let .uid(uid): return String(uid)
        }
    }
}

/// What to do with the matched processes' threads and memory.
public struct Placement: Hashable, Sendable {
    public var mode: PlacementPolicyMode
    /// Nodes for pin, interleave and preferred; none for auto and ignore.
    public var nodes: NodeChoice?
    /// For pin only: the nodes whose CPUs the threads run on, when they differ
    /// from `nodes` (e.g. memory on a CPU-less CXL node, threads on node 0).
    public var cpuNodes: [NodeID]?
    /// How auto mode groups processes that work together.
    public var group: Grouping
    /// How auto mode lays out a process or group over nodes.
    public var spread: Spread

    public init(mode: PlacementPolicyMode, nodes: NodeChoice? = nil, cpuNodes: [NodeID]? = nil,
                group: Grouping = .sharedMemory, spread: Spread = .pack) {
        self.mode = mode
        self.nodes = nodes
        self.cpuNodes = cpuNodes
        self.group = group
        self.spread = spread
    }
}

/// The placement modes of a policy (DESIGN.md "Policies").
public enum PlacementPolicyMode: String, Hashable, Sendable, CaseIterable {
    /// Balance: the engine decides from sampled placement and CPU time.
    case auto
    /// Threads on the nodes' CPUs and memory on the nodes (MPOL_BIND-like).
    case pin
    /// Existing pages spread round-robin over the nodes.
    case interleave
    /// Threads and memory toward the node (several: the engine picks among
    /// them, like MPOL_PREFERRED_MANY); never a hard bind.
    case preferred
    /// Leave the processes alone.
    case ignore

    /// Modes whose meaning is a set of nodes.
    public var needsNodes: Bool { self == .pin || self == .interleave || self == .preferred }
}

/// The nodes of a placement: a list, or `all` (every node with memory,
/// decided on the machine it runs on: for interleave).
public enum NodeChoice: Hashable, Sendable {
    case list([NodeID])
    case all
}

/// Which processes auto mode places as one (the kernel's numa_group).
public enum Grouping: String, Hashable, Sendable, CaseIterable {
    /// Processes mapping the same shared memory (SysV segment, shmem or tmpfs
    /// inode, memfd): a database's backends around its shared buffers.
    case sharedMemory = "shared-memory"
    /// All matched processes of one cgroup.
    case cgroup
    /// Matched processes with the same parent (the ranks one launcher started).
    case parent
    /// Every process alone, even if it shares memory.
    case none
}

/// How auto mode lays a process or group over the nodes.
public enum Spread: String, Hashable, Sendable, CaseIterable {
    /// On as few nodes as it fits; a group larger than a node spans its active nodes.
    case pack
    /// Threads and memory of each process (or group) kept on one node, never
    /// spanned; one that fits no node stays where it is, and `status` says so.
    case singleNode = "single-node"
    /// The members of a group spread evenly, one per node (more members than
    /// nodes: as even as possible), each member kept local to its own memory.
    case onePerNode = "one-per-node"
}

/// Memory moves for the matched processes.
public struct MemoryRules: Hashable, Sendable {
    /// Move pages at all; false leaves memory where it is (threads may still move).
    public var migrate: Bool = true
    /// This policy's cap on migration, MiB/s; nil: the daemon's `migration.maxRateMBps`.
    public var maxRateMBps: Double?
    /// Also place shared memory objects (SysV segments, shmem, memfd) and set
    /// their policy (MPOL_PREFERRED) so later faults follow.
    public var sharedObjects: Bool = true

    public init(migrate: Bool = true, maxRateMBps: Double? = nil, sharedObjects: Bool = true) {
        self.migrate = migrate
        self.maxRateMBps = maxRateMBps
        self.sharedObjects = sharedObjects
    }
}

/// The sampling budget for the matched processes; nil: the daemon's.
public struct SamplingRules: Hashable, Sendable {
    /// Most pages queried in one round of one process.
    public var maxSamplesPerRound: Int?
    /// Accuracy wanted: half-width of the 95 % interval of a node's share.
    public var halfWidth: Double?
    /// Longest one round of one process may spend in move_pages.
    public var roundBudget: Duration?
    /// Sample hugetlbfs mappings too (skipped by default, as the kernel's scanner does).
    public var hugetlb: Bool = false

    public init(maxSamplesPerRound: Int? = nil, halfWidth: Double? = nil, roundBudget: Duration? = nil,
                hugetlb: Bool = false) {
        self.maxSamplesPerRound = maxSamplesPerRound
        self.halfWidth = halfWidth
        self.roundBudget = roundBudget
        self.hugetlb = hugetlb
    }
}

/// When auto mode acts; nil: the daemon's.
public struct BalancingRules: Hashable, Sendable {
    /// Locality at or above which a process is left alone (0…1).
    public var localityTarget: Double?
    /// How much the new node's faults must beat the current preferred node's
    /// before the preferred node changes (0.125 = 12.5 %).
    public var margin: Double?
    /// A process acted on is left alone this long.
    public var cooldown: Duration?

    public init(localityTarget: Double? = nil, margin: Double? = nil, cooldown: Duration? = nil) {
        self.localityTarget = localityTarget
        self.margin = margin
        self.cooldown = cooldown
    }
}
