import NUMAModel

/// How much to sample in one round.
public struct SamplingOptions: Sendable {
    /// Addresses queried when the count is fixed (`inspect --samples K`).
    public var initialSamples = 4096
    /// Query exactly `initialSamples` random pages (the user asked for K), never more.
    public var fixedSampleCount = false
    /// Ceiling for sparse mappings (JVM and Go heaps reserve far more than they touch).
    public var maxSamples = 65_536
    /// Pages in the first draw of a round (nil: chosen by `SamplePlanner`).
    public var pilotPages: Int?
    /// Accuracy wanted: half-width of the 95 % interval of a node's share.
    /// ±2 pp needs about 2,400 independent resident pages at p = 0.5.
    public var halfWidth = 0.02
    /// Wall time one round may spend in move_pages before it settles for less accuracy.
    public var budgetSeconds = 0.010
    /// What the previous round of this process measured, to choose the mix.
    public var previousDesignEffect: Double?
    public var previousResidentFraction: Double?
    /// The previous round's thread readings: CPU time is then measured since
    /// that round, with no wait; without it the round waits `cpuInterval`.
    public var cpuBaseline: CPUBaseline?
    /// The interval over which threads' CPU time is measured.
    public var cpuInterval: Duration = .milliseconds(500)
    public var seed: UInt64 = 0x5EED
    /// AnonHugePages from smaps_rollup: it walks the page tables, so only on request.
    public var readHugePages = false
    /// Sample hugetlb mappings too (a policy's `sampling.hugetlb: true`).
    public var hugetlb = false
    /// The kernel balancer's per-task fault stats, when it is on.
    public var readKernelFaults = true
    /// The soft-dirty tier: which sampled pages were written in the interval.
    /// Clearing the bits walks the process's page tables, so it is opt-in.
    public var trackWrites = false
    /// Where the cgroup v2 hierarchy is mounted (nil: found from mountinfo).
    public var cgroupRoot: String?
    /// Bytes of /proc/PID/maps a round reads (ProcessSampler.mapsByteLimit).
    public var mapsByteLimit = ProcessSampler.mapsByteLimit

    public init() {}
}

/// Which access signals a round used, for `inspect` to report.
public struct AccessTiers: Hashable, Sendable, Codable {
    /// "used", or why not (e.g. "kernel.numa_balancing is 0").
    public var kernelHintFaults: String
    public var softDirty: String

    public init(kernelHintFaults: String, softDirty: String) {
        self.kernelHintFaults = kernelHintFaults
        self.softDirty = softDirty
    }
}

/// Threads' CPU counters at one moment, the start of the next round's interval.
public struct CPUBaseline: Sendable {
    public var identity: ProcessIdentity
    public var readings: [Int32: ThreadReading]
    public var time: Double
    /// The soft-dirty bits were cleared at `time`: the next round can read writes.
    public var writesCleared: Bool

    public init(identity: ProcessIdentity, readings: [Int32: ThreadReading], time: Double,
                writesCleared: Bool = false) {
        self.identity = identity
        self.readings = readings
        self.time = time
        self.writesCleared = writesCleared
    }
}

/// A round's observation with what it cost and what it used.
public struct SamplingReport: Sendable {
    public var observation: Observation
    /// Wall time spent in move_pages.
    public var probeSeconds: Double
    /// The mix of random pages and runs the round used, and how many pages.
    public var design: SampleDesign
    /// Wall time reading maps and choosing addresses.
    public var mapsSeconds: Double
    public var tiers: AccessTiers
    /// This round's closing readings, for the next round of the same process.
    public var cpuBaseline: CPUBaseline
    /// Mappings named like SysV segments that are not (KernelSharedMemory):
    /// sampled as the files they are, never treated as a shared object.
    public var forgedSegments: [String] = []
}
