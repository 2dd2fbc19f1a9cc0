/// The daemon's settings (`/etc/numabalance/numabalance.yaml`). Every key has
/// a default, so no file at all is a valid configuration. A policy's
/// `sampling`, `balancing` and `memory.maxRateMBps` override the keys of the
/// same name here for the processes it matches.
public struct DaemonConfig: Hashable, Sendable {
    public static let defaultPath = "/etc/numabalance/numabalance.yaml"

    /// What to do with the kernel's own balancer (sysctl kernel.numa_balancing).
    public var kernelBalancing: KernelBalancing = .warn
    /// Decide and log, never act: a way to roll out on a fleet and read
    /// the plans before they run.
    public var dryRun: Bool = false
    public var logLevel: LogLevel = .info
    /// The journal of actions, the lock against a second instance's decisions
    /// and the kernel.numa_balancing value found at start (for `disable`).
    public var stateDirectory: String = "/var/lib/numabalance"
    /// The control socket for `numabalance status` (root only).
    public var runtimeDirectory: String = "/run/numabalance"
    /// Policy files (`*.yaml`), applied in lexical order of their names.
    public var policyDirectory: String = "/etc/numabalance/policies.d"
    public var scanPeriod = ScanPeriodBounds()
    public var sampling = SamplingConfig()
    public var balancing = BalancingConfig()
    public var migration = MigrationConfig()
    public var metrics = MetricsConfig()
    /// Ping systemd's watchdog (WATCHDOG=1) from the balancing loop when the
    /// unit sets WatchdogSec=, so a stuck loop gets the daemon restarted.
    public var watchdog: Bool = true

    public init() {}
}

/// `kernelBalancing`: the daemon's mode follows kernel.numa_balancing as found
/// (0: standalone; else hybrid, reading the kernel's fault statistics).
public enum KernelBalancing: String, Hashable, Sendable, CaseIterable {
    /// Leave the sysctl as it is, quietly.
    case leave
    /// Leave it, and say in the log and in `status` which mode is in force.
    case warn
    /// Write 0 while running (standalone mode); the value found is saved in
    /// the state folder first and restored at exit, or at the next start
    /// after a crash. Needs CAP_SYS_ADMIN.
    case disable
}

/// `logLevel`: journald priorities, most severe first.
public enum LogLevel: String, Hashable, Sendable, CaseIterable, Comparable {
    case error, warning, notice, info, debug

    public static func < (a: LogLevel, b: LogLevel) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// `scanPeriod`: how often a process is sampled. Each process's period
/// moves between the bounds as the kernel's update_task_scan_period would
/// move it: longer while it stays local and private, shorter otherwise.
public struct ScanPeriodBounds: Hashable, Sendable {
    public var min: Duration = .seconds(1)
    public var max: Duration = .seconds(60)
    /// A process seen misplaced once, its threads allowed on one node only,
    /// is looked at again this soon, not a scan period later: the two-stage
    /// filter needs two observations that agree, not two periods.
    public var secondLook: Duration = .milliseconds(300)
    public init() {}
    static let bounds: ClosedRange<Duration> = .milliseconds(100) ... .seconds(86_400)
    static let secondLookBounds: ClosedRange<Duration> = .milliseconds(50) ... .seconds(60)
}

/// `sampling`: the cost of learning where pages are (move_pages queries).
public struct SamplingConfig: Hashable, Sendable {
    /// Pages queried per second over all processes: the daemon's whole
    /// sampling budget. At about 250 ns a page, 20,000 is 0.5 % of one CPU.
    public var maxSamplesPerSecond: Int = 20_000
    /// Most pages queried in one round of one process (sparse heaps need many
    /// addresses to find enough resident pages).
    public var maxSamplesPerRound: Int = 65_536
    /// Accuracy wanted: half-width of the 95 % interval of a node's page
    /// share; 0.02 (±2 pp) needs about 2,400 independent resident pages.
    public var halfWidth: Double = 0.02
    /// Longest one round of one process may spend in move_pages before it
    /// settles for less accuracy.
    public var roundBudget: Duration = .milliseconds(10)
    /// Processes with less resident memory are not sampled (a policy that
    /// names them still applies): small processes gain little from moving
    /// and each round costs about half a millisecond of /proc reads.
    public var minResidentBytes: UInt64 = 32 << 20
    public init() {}
    static let samplesPerSecond = 100...10_000_000
}

/// `balancing`: when auto mode acts.
public struct BalancingConfig: Hashable, Sendable {
    /// Locality (page share × CPU share, summed over nodes) at or above
    /// which a process is left alone.
    public var localityTarget: Double = 0.9
    /// How much the new node's faults must beat the preferred node's before
    /// the preferred node changes (the kernel leans on a 3/4 rule; 1/8 here).
    public var margin: Double = 0.125
    /// A process acted on is left alone this long, unless its locality falls sharply.
    public var cooldown: Duration = .seconds(30)
    public init() {}
}

/// `migration`: how fast and how far memory may move.
public struct MigrationConfig: Hashable, Sendable {
    /// Migration budget over all processes, MiB/s (token bucket, one second
    /// of burst). Moves are batched about a second's worth at a time.
    public var maxRateMBps: Double = 1024
    /// Free memory kept on a destination node above its high watermark, as a
    /// fraction of the node (1/32: 1 GiB of a 32 GiB node).
    public var reserveMargin: Double = 1.0 / 32
    public init() {}
}

/// `metrics`: Prometheus text format over HTTP. Off unless `listen` is set,
/// and only on a loopback address: the numbers describe every process on
/// the host, so exposing them is a choice made with a proxy, not a default.
public struct MetricsConfig: Hashable, Sendable {
    /// `127.0.0.1:9464` or `[::1]:9464`; nil: no metrics endpoint.
    public var listen: ListenAddress?
    public init(listen: ListenAddress? = nil) { self.listen = listen }
}
