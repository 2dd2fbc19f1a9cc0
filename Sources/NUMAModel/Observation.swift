/// One thread's CPU use over a sampling interval and where it ran.
public struct ThreadActivity: Hashable, Sendable, Codable {
    public var tid: Int32
    /// utime + stime consumed in the interval, in seconds.
    public var cpuSeconds: Double
    /// The CPU it last ran on (/proc/pid/task/tid/stat field 39).
    public var lastCPU: Int
    /// The node of `lastCPU`, where its accesses are attributed.
    public var node: NodeID?
    /// Scheduler state letter (R running, S sleeping, D, Z, …).
    public var state: Character

    public init(tid: Int32, cpuSeconds: Double, lastCPU: Int, node: NodeID?, state: Character) {
        self.tid = tid
        self.cpuSeconds = cpuSeconds
        self.lastCPU = lastCPU
        self.node = node
        self.state = state
    }

    enum CodingKeys: String, CodingKey { case tid, cpuSeconds, lastCPU, node, state }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tid = try c.decode(Int32.self, forKey: .tid)
        cpuSeconds = try c.decode(Double.self, forKey: .cpuSeconds)
        lastCPU = try c.decode(Int.self, forKey: .lastCPU)
        node = try c.decodeIfPresent(NodeID.self, forKey: .node)
        state = try c.decode(String.self, forKey: .state).first ?? "?"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tid, forKey: .tid)
        try c.encode(cpuSeconds, forKey: .cpuSeconds)
        try c.encode(lastCPU, forKey: .lastCPU)
        try c.encodeIfPresent(node, forKey: .node)
        try c.encode(String(state), forKey: .state)
    }
}

/// Memory that several processes can map: what makes them a group.
public struct SharedObject: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// A SysV segment (maps shows "/SYSV<key> (deleted)"; inode is the shmid).
        case sysvShm
        /// A file on tmpfs/shmem (/dev/shm/…, a memfd, MAP_SHARED|MAP_ANONYMOUS).
        case shmem
        case memfd
        /// MAP_SHARED|MAP_ANONYMOUS: "/dev/zero (deleted)" in maps.
        case anonShared
    }

    public var kind: Kind
    /// Device and inode: the same pair in two processes is the same object.
    public var device: String
    public var inode: UInt64
    public var path: String
    public var bytes: UInt64

    public init(kind: Kind, device: String, inode: UInt64, path: String, bytes: UInt64) {
        self.kind = kind
        self.device = device
        self.inode = inode
        self.path = path
        self.bytes = bytes
    }

    /// A key equal across processes that map the same object.
    public var key: String { "\(kind.rawValue):\(device):\(inode)" }
}

/// The sampled placement of one address range (a mapping, or a window of a
/// large one): the unit the two-stage migration filter remembers.
public struct RangePlacement: Hashable, Sendable, Codable {
    public var start: UInt64
    public var end: UInt64
    /// The shared object the range maps, if any (its `key`).
    public var sharedObject: String?
    public var pagesByNode: [NodeID: Int]
    /// Samples of the range that found no page (never touched, or swapped out).
    public var notResident: Int
    /// Huge page size of a hugetlb mapping; 0 for base pages.
    public var pageBytes: UInt64

    public init(start: UInt64, end: UInt64, sharedObject: String?, pagesByNode: [NodeID: Int],
                notResident: Int = 0, pageBytes: UInt64 = 0) {
        self.start = start
        self.end = end
        self.sharedObject = sharedObject
        self.pagesByNode = pagesByNode
        self.notResident = notResident
        self.pageBytes = pageBytes
    }

    /// The range as an action names it (its page size with it).
    public var addressRange: AddressRange { AddressRange(start: start, end: end, pageBytes: pageBytes) }

    enum CodingKeys: String, CodingKey { case start, end, sharedObject, pagesByNode, notResident, pageBytes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        start = try c.decode(UInt64.self, forKey: .start)
        end = try c.decode(UInt64.self, forKey: .end)
        sharedObject = try c.decodeIfPresent(String.self, forKey: .sharedObject)
        pagesByNode = try c.decode([NodeID: Int].self, forKey: .pagesByNode)
        notResident = try c.decodeIfPresent(Int.self, forKey: .notResident) ?? 0
        pageBytes = try c.decodeIfPresent(UInt64.self, forKey: .pageBytes) ?? 0
    }

    /// The mapping's virtual size: what it reserves, not what it holds.
    public var bytes: UInt64 { end - start }

    /// Sampled resident share of the range (1 when nothing was sampled).
    public var residentFraction: Double {
        let resident = pagesByNode.values.reduce(0, +)
        let seen = resident + notResident
        return seen > 0 ? Double(resident) / Double(seen) : 1
    }

    /// What the range holds: its size × its sampled resident share. A JVM heap
    /// reserving 32 GiB with 2 GiB touched is 2 GiB here: the bytes a move,
    /// the reserve and the budget are charged.
    public var residentBytes: UInt64 { UInt64(Double(bytes) * residentFraction) }
}

/// The kernel balancer's own per-node fault counts for a process (summed
/// over its threads' /proc/pid/task/tid/sched numa_faults lines), present
/// only when kernel.numa_balancing is on.
public struct KernelFaults: Hashable, Sendable, Codable {
    /// Memory faults per node: pages accessed that live there (private + shared).
    public var memory: [NodeID: UInt64]
    /// CPU faults per node: accesses made from CPUs of that node.
    public var cpu: [NodeID: UInt64]
    public var privateFaults: UInt64
    public var sharedFaults: UInt64
    /// The kernel's numa_group id, if the task is in a group.
    public var groupID: UInt64?

    public init(memory: [NodeID: UInt64], cpu: [NodeID: UInt64], privateFaults: UInt64,
                sharedFaults: UInt64, groupID: UInt64?) {
        self.memory = memory
        self.cpu = cpu
        self.privateFaults = privateFaults
        self.sharedFaults = sharedFaults
        self.groupID = groupID
    }
}

/// Who set a process's CPU affinity: nobody (it spans its cpuset), the user
/// (respected: memory follows it), or numabalance itself (its own to change).
public enum AffinityOwner: String, Hashable, Sendable, Codable {
    case unrestricted, user, numabalance
}

/// Everything one sampling round learned of one process: the engine's only input
/// about it. Time is given, never read, so the engine stays deterministic.
public struct Observation: Hashable, Sendable, Codable {
    public var identity: ProcessIdentity
    public var comm: String
    /// When the round ended, in seconds on a monotonic clock.
    public var time: Double
    /// Length of the CPU-time interval behind `threads`.
    public var intervalSeconds: Double
    public var pages: PagePlacement
    public var ranges: [RangePlacement]
    public var threads: [ThreadActivity]
    public var allowedCPUs: CPUSet
    public var allowedNodes: [NodeID]
    public var rssBytes: UInt64
    /// Bytes of the mappings the sampler considers (anon, shmem, heap, stack).
    public var eligibleBytes: UInt64
    /// Transparent huge pages (AnonHugePages of smaps_rollup), if read.
    public var hugePageBytes: UInt64?
    public var sharedObjects: [SharedObject]
    public var kernelFaults: KernelFaults?
    /// Things that happened during the round (the process exited, a mapping
    /// vanished): normal events, reported rather than thrown.
    public var events: [String]
    /// The cgroup's effective cpuset (cpuset.cpus.effective): the hard limit on
    /// where threads may run. Nil when unknown; `allowedCPUs` is the current
    /// affinity, which may be narrower (a user's pin, or numabalance's own).
    public var cpusetCPUs: CPUSet?
    /// Who set the current affinity, when the caller knows (the journal tells
    /// numabalance's pins from the user's). Nil: the engine infers it.
    public var affinityOwner: AffinityOwner?
    /// A policy's grouping key (cgroup path, parent pid): processes with the
    /// same hint are placed as one group.
    public var groupHint: String?
    /// The real uid (status's first Uid:): a shared object ties only
    /// processes of one user into a group.
    public var uid: UInt32?
    /// Sampled resident pages written during the interval, per node (the
    /// opt-in soft-dirty tier); nil when the tier was not used.
    public var writtenPagesByNode: [NodeID: Int]?
    /// Affinities of threads that differ from the main thread's
    /// (`allowedCPUs`), each once: per-thread pins. Empty when all agree.
    public var threadAffinities: [CPUSet] = []
    /// The program it ran when sampled; an act checks it still does.
    public var image: ProgramImage?

    /// Every distinct affinity among the threads, the main thread's first.
    public var affinities: [CPUSet] { [allowedCPUs] + threadAffinities }

    public init(identity: ProcessIdentity, comm: String, time: Double, intervalSeconds: Double,
                pages: PagePlacement, ranges: [RangePlacement] = [], threads: [ThreadActivity],
                allowedCPUs: CPUSet, allowedNodes: [NodeID], rssBytes: UInt64,
                eligibleBytes: UInt64, hugePageBytes: UInt64? = nil,
                sharedObjects: [SharedObject] = [], kernelFaults: KernelFaults? = nil,
                events: [String] = [], cpusetCPUs: CPUSet? = nil,
                affinityOwner: AffinityOwner? = nil, groupHint: String? = nil,
                writtenPagesByNode: [NodeID: Int]? = nil) {
        self.writtenPagesByNode = writtenPagesByNode
        self.cpusetCPUs = cpusetCPUs
        self.affinityOwner = affinityOwner
        self.groupHint = groupHint
        self.identity = identity
        self.comm = comm
        self.time = time
        self.intervalSeconds = intervalSeconds
        self.pages = pages
        self.ranges = ranges
        self.threads = threads
        self.allowedCPUs = allowedCPUs
        self.allowedNodes = allowedNodes
        self.rssBytes = rssBytes
        self.eligibleBytes = eligibleBytes
        self.hugePageBytes = hugePageBytes
        self.sharedObjects = sharedObjects
        self.kernelFaults = kernelFaults
        self.events = events
    }

    /// Sampled resident share of the eligible memory; nil when nothing was
    /// sampled. Sparse heaps reserve far more than they touch.
    public var residentFraction: Double? {
        let seen = pages.resident + pages.notResident
        return seen > 0 ? Double(pages.resident) / Double(seen) : nil
    }

    /// Resident bytes of the sampled memory: eligible bytes × resident share
    /// (VmRSS when nothing was sampled).
    public var residentBytes: UInt64 {
        residentFraction.map { UInt64(Double(eligibleBytes) * $0) } ?? rssBytes
    }

    /// CPU seconds of the interval per node, from each thread's last CPU.
    public var cpuSecondsByNode: [NodeID: Double] {
        var result: [NodeID: Double] = [:]
        for thread in threads {
            guard let node = thread.node, thread.cpuSeconds > 0 else { continue }
            result[node, default: 0] += thread.cpuSeconds
        }
        return result
    }

    /// CPU seconds per second of the interval, over every thread (1 = one CPU).
    public var cpuRate: Double {
        guard intervalSeconds > 0 else { return 0 }
        return threads.reduce(0) { $0 + max($1.cpuSeconds, 0) } / intervalSeconds
    }

    /// Each node's share of the interval's CPU time; nil when no CPU was used.
    public var cpuShares: [NodeID: Double]? {
        let byNode = cpuSecondsByNode
        let total = byNode.values.reduce(0, +)
        guard total > 0 else { return nil }
        return byNode.mapValues { $0 / total }
    }

    /// Σ over nodes of page share × CPU-time share: 1 when every access is
    /// local. Nil (never NaN) when the process used no CPU or has no resident sample.
    public var locality: Double? {
        Locality.of(pageShares: pages.shares, cpuShares: cpuShares)
    }
}

public enum Locality {
    /// Σ page share × CPU share; nil if either side is unknown.
    public static func of(pageShares: [NodeID: Double], cpuShares: [NodeID: Double]?) -> Double? {
        guard let cpuShares, !pageShares.isEmpty else { return nil }
        return pageShares.reduce(0) { $0 + $1.value * (cpuShares[$1.key] ?? 0) }
    }
}
