import NUMAModel
import NUMAProc
import NUMASystem

/// The kernel as the actuator sees it: a small protocol with one Linux
/// implementation (`LinuxKernel`) and a recording fake in the unit tests.
/// Every state-changing call is named `set…`, `move…`, `migrate…` or
/// `apply…`, so a dry run can be checked to have made none.
public protocol KernelInterface: Sendable {
    var pageSize: UInt64 { get }

    /// What the safety checks need: identity, owner, kernel-thread flag.
    func process(_ pid: Int32) -> Result<TargetProcess, ActuationError>
    /// Watches a process for exit (a pidfd on Linux), after checking it is `identity`.
    func watch(_ identity: ProcessIdentity) -> Result<any ProcessWatch, ActuationError>
    func threadIDs(_ pid: Int32) -> Result<[Int32], ActuationError>
    func mappings(_ pid: Int32) -> Result<[Mapping], ActuationError>
    /// The cgroup's effective CPUs and memory nodes (nil fields: no limit known).
    func cpuset(_ pid: Int32) -> EffectiveCpuset?

    func affinity(ofThread tid: Int32) -> Result<CPUSet, SystemError>
    func setAffinity(ofThread tid: Int32, to cpus: CPUSet) -> Result<Void, SystemError>

    /// The pages of `range` present in memory (pagemap), one address per
    /// `step`; nil when that cannot be read (every address is then asked).
    func presentPages(pid: Int32, range: AddressRange, step: UInt64) -> [UInt64]?
    /// The node of each page (move_pages with no node array): a node id, or
    /// -errno (-ENOENT/-EFAULT: not resident). `pid` 0 is the caller.
    func queryPages(pid: Int32, addresses: [UInt64]) -> Result<[Int32], SystemError>
    /// move_pages with a node array; `moveShared` is MPOL_MF_MOVE_ALL.
    func movePages(pid: Int32, addresses: [UInt64], nodes: [Int32], moveShared: Bool)
        -> Result<PageMoveResult, SystemError>
    /// migrate_pages: every page of the process on `from` goes to `to`;
    /// returns the pages the kernel could not move.
    func migratePages(pid: Int32, from: [NodeID], to: [NodeID]) -> Result<Int, SystemError>

    /// The caller's own view of a shared object that `pid` maps at `mapping`
    /// (through /proc/pid/map_files, SysV segments too), limited to
    /// `window` (byte offsets within the mapping).
    func openSharedObject(pid: Int32, mapping: Mapping, window: Range<UInt64>)
        -> Result<any SharedObjectView, SystemError>

    /// /proc/vmstat pgmigrate_success: the kernel's count of migrated base pages.
    func migratedPagesCounter() -> UInt64?
    /// Monotonic seconds, and a sleep, so the token bucket can be tested.
    func now() -> Double
    func sleep(seconds: Double)
}

/// The process an act targets, as read just before acting: what the
/// actuator needs to know of it (matching a policy reads NUMAPolicy.ProcessFacts).
public struct TargetProcess: Hashable, Sendable {
    public var identity: ProcessIdentity
    public var comm: String
    public var isKernelThread: Bool
    /// Real, effective, saved, filesystem (from status).
    public var uids: [UInt32]
    public var isZombie: Bool
    /// Exiting (PF_EXITING): its memory may already be gone.
    public var isExiting: Bool
    /// Exiting or a zombie: nothing can be done to it any more (an exit, not a failure).
    public var isExitingOrZombie: Bool { isExiting || isZombie }
    public var memsAllowed: [NodeID]
    /// The program it runs now; nil when /proc/PID/exe cannot be followed
    /// (a kernel thread, a process past exit_mm).
    public var image: ProgramImage?

    public init(identity: ProcessIdentity, comm: String, isKernelThread: Bool = false,
                uids: [UInt32] = [0, 0, 0, 0], isZombie: Bool = false, isExiting: Bool = false,
                memsAllowed: [NodeID] = [], image: ProgramImage? = nil) {
        self.identity = identity
        self.comm = comm
        self.isKernelThread = isKernelThread
        self.uids = uids
        self.isZombie = isZombie
        self.isExiting = isExiting
        self.memsAllowed = memsAllowed
        self.image = image
    }
}

/// A process being acted on: tells whether it has exited since it was checked.
public protocol ProcessWatch: Sendable {
    var hasExited: Bool { get }
    func close()
}

/// What move_pages said: each page's status (its node now, or -errno) and
/// how many pages the kernel counted as not migrated.
public struct PageMoveResult: Hashable, Sendable {
    public var statuses: [Int32]
    public var notMigrated: Int

    /// The status of a page the call never reached: move_pages stops at the
    /// first run of pages (bound for one node) that did not all migrate.
    public static let unprocessed = MemoryPolicy.unreachedStatus

    public init(statuses: [Int32], notMigrated: Int) {
        self.statuses = statuses
        self.notMigrated = notMigrated
    }
}

/// A memory policy as mbind/get_mempolicy know it.
public struct MemoryPolicySpec: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Mode: String, Hashable, Sendable, Codable {
        case `default`, preferred, bind, interleave, local, preferredMany
    }

    public var mode: Mode
    public var nodes: [NodeID]

    public init(mode: Mode, nodes: [NodeID] = []) {
        self.mode = mode
        self.nodes = nodes
    }

    public init(_ policy: ObjectPolicy, nodes: [NodeID]) {
        switch policy {
        case .preferred: self.init(mode: .preferred, nodes: nodes)
        case .interleave: self.init(mode: .interleave, nodes: nodes)
        case .bind: self.init(mode: .bind, nodes: nodes)
        }
    }

    /// As numa_maps prints it: "prefer:1", "interleave:0-1", "default".
    public var description: String {
        let list = formatIDList(nodes.map(\.rawValue).sorted())
        switch mode {
        case .default: return "default"
        case .local: return "local"
        case .preferred: return "prefer:\(list)"
        case .preferredMany: return "prefer (many):\(list)"
        case .bind: return "bind:\(list)"
        case .interleave: return "interleave:\(list)"
        }
    }
}

/// The caller's mapping of (a window of) a shared object: pages are
/// addressed by their index from `base`.
public protocol SharedObjectView: Sendable {
    /// Address of the window's first byte in the caller's address space.
    var base: UInt64 { get }
    var length: UInt64 { get }
    /// Page offset of the window's first page within the object (interleave
    /// follows the object's page offsets, as the kernel's does).
    var objectPageOffset: UInt64 { get }
    /// Indexes of the pages resident in the object (mincore).
    func residentPages() -> Result<[Int], SystemError>
    /// Maps the given pages into the caller's page tables as a read would;
    /// the number it could not (gone: the object shrank since mincore).
    func populate(pages: [Int]) -> Int
    /// The policy the object has now (get_mempolicy MPOL_F_ADDR).
    func policy() -> Result<MemoryPolicySpec, SystemError>
    /// mbind over the window; `moveShared` adds MPOL_MF_MOVE_ALL.
    func applyPolicy(_ policy: MemoryPolicySpec, moveShared: Bool) -> Result<Void, SystemError>
    /// Unmaps (or detaches) the window.
    func close()
}

extension KernelInterface {
    /// No page table to read: every address is asked (the unit tests' fakes).
    public func presentPages(pid: Int32, range: AddressRange, step: UInt64) -> [UInt64]? { nil }
}
