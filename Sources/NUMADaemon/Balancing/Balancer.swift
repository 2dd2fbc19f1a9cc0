import Foundation
import Logging
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMAProc
import NUMASampling
import NUMASystem
import NUMATopology
import Synchronization

/// The daemon's loop, on one thread of its own: find processes, sample those
/// whose scan period is up (on the sampler of their node), plan with the
/// engine (auto) or the policy (pin, preferred, interleave), act through the
/// actuator with the journal, publish the status. Acting blocks this thread
/// only: status and reload are served by the control thread meanwhile.
final class Balancer: @unchecked Sendable {
    // @unchecked: every mutable field below is touched only by the loop's own
    // thread; what other threads see goes through `shared` (a Mutex).

    struct Shared: Sendable {
        var settings: Settings
        var pending: Settings?
        var status = StatusReport()
    }

    let shared: Mutex<Shared>
    let stop = StopSignal()
    let environment: DaemonEnvironment
    let logger: Logger
    let pool: SamplerPool
    let kernel = LinuxKernel()
    let procfs = ProcFS()
    let factsReader = ProcessFactsReader()
    /// Policy sets with cmdline regexes are matched there, not on this thread.
    let matchThread = PolicyMatchThread()
    /// Processes handed to the match thread, until their answer is back.
    var awaitingMatch: [Int32: ProcessIdentity] = [:]
    let journal: Journal
    let selfPID = Host.pid

    var settings: Settings
    var engine: PlacementEngine
    var topology: Topology
    var topologyReadAt = 0.0
    /// /proc/stat's per-CPU times at the last plan: each node's busy time
    /// since then is load the engine must count (NodeBusy).
    var cpuTimesAtLastPlan: [CPUTimes] = []
    /// The daemon's own threads then: its own CPU time is not a workload's.
    var ownThreadsAtLastPlan: [Int32: ThreadReading] = [:]
    var lastPlanAt = 0.0
    var tracked: [Int32: TrackedProcess] = [:]
    /// Pids handed to a sampler thread whose outcome has not come back: a
    /// set, so the loop's "round complete?" never walks every process.
    var inFlight = Set<Int32>()
    /// Kernel threads seen in the listing, with when to check the pid again
    /// (a server has hundreds; reading each one's stat every second is waste).
    var kernelThreads: [Int32: Double] = [:]
    var lastListing = 0.0
    var sampleTokens: Double
    var sampleTokensAt = 0.0
    let inbox = Mutex<[SamplingOutcome]>([])
    var failedLastRound = Set<ProcessIdentity>()
    var totals = StatusReport.Totals()
    var lastWatchdog = 0.0
    var lastPublished = 0.0
    var startedAt = Clock.monotonicSeconds()

    init(environment: DaemonEnvironment, settings: Settings, topology: Topology, logger: Logger) throws {
        self.environment = environment
        self.settings = settings
        self.topology = topology
        self.logger = logger
        journal = Journal.inDirectory(settings.config.stateDirectory)
        engine = PlacementEngine(config: Self.placementConfig(settings.config, mode: environment.mode))
        sampleTokens = Double(settings.config.sampling.maxSamplesPerSecond)
        shared = Mutex(Shared(settings: settings))
        do { pool = try SamplerPool(sampler: ProcessSampler(topology: topology)) } catch {
            throw DaemonError("cannot start the sampler threads: \(error)")
        }
        resumeFromJournal()
        publish(now: Clock.monotonicSeconds())   // status answers from READY=1 on
    }

    static func placementConfig(_ config: DaemonConfig, mode: PlacementMode) -> PlacementConfig {
        PlacementConfig(
            mode: mode,
            scanPeriodMin: config.scanPeriod.min.inSeconds,
            scanPeriodMax: config.scanPeriod.max.inSeconds,
            cooldownSeconds: config.balancing.cooldown.inSeconds,
            preferredNodeMargin: config.balancing.margin,
            reserveFraction: config.migration.reserveMargin,
            budgetBytesPerSecond: config.migration.maxRateMBps * 1_048_576)
    }

    var round: Double?
    /// The start of the round being planned: scans are put on its grid.
    var roundStart = 0.0
    var nextRoundAt = 0.0
    var collected: [SamplingOutcome] = []
    /// Affinity that children inherited from numabalance's pin of their parent.
    var releases: [Action] = []
    let ticksPerSecond = Double(Host.clockTicksPerSecond)
    /// Token buckets that live across rounds: the daemon's (key "") and one
    /// per policy with its own `memory.maxRateMBps` (never above the daemon's).
    var buckets: [String: TokenBucket] = [:]
    /// Cool-downs and numabalance's own pins, read back from the journal.
    var ownAffinities: [ProcessIdentity: CPUSet] = [:]
    var actedAtWall: [ProcessIdentity: Double] = [:]

    // MARK: the loop

    /// Runs until `stop` is requested; the batch in flight finishes first.
    ///
    /// Sampling goes in rounds, one every `scanPeriod.min` at most: every
    /// process due by then is sampled, and the engine plans once all of them
    /// are back (or after `roundWait`). Processes that share nodes are thus
    /// judged together — two spread processes that each fit a node can only
    /// be gathered when both are lifted in the same plan.
    func run() {
        let tick = 0.1
        while !stop.isRequested {
            let now = Clock.monotonicSeconds()
            takePendingSettings(now: now)
            if now - lastListing >= 1 { discover(now: now) }
            for answer in matchThread.takeAnswers() { matched(answer, now: now) }
            if !releases.isEmpty {
                let pending = releases
                releases = []
                act(pending, now: now)
                lastPublished = 0
            }
            if round == nil, now >= nextRoundAt { openRound(now: now) }
            let arrived = inbox.withLock { box in defer { box = [] }; return box }
            for outcome in arrived { inFlight.remove(outcome.pid) }
            collected += arrived
            if let started = round, inFlight.isEmpty || now - started > Self.roundWait {
                round = nil
                nextRoundAt = started + engine.config.scanPeriodMin
                let outcomes = collected
                collected = []
                roundStart = started
                if !outcomes.isEmpty { balance(outcomes, now: Clock.monotonicSeconds()) }
                lastPublished = 0   // a round ended: show it now
            }
            // The status of every tracked process is rebuilt after a round or
            // an act, else once a second: not at every tenth-of-a-second tick.
            if Clock.monotonicSeconds() - lastPublished >= 1 {
                publish(now: Clock.monotonicSeconds())
                lastPublished = Clock.monotonicSeconds()
            }
            pingWatchdog(now: Clock.monotonicSeconds())
            let spent = Clock.monotonicSeconds() - now
            if spent < tick { Clock.sleep(seconds: tick - spent) }
        }
        pool.stop()
        matchThread.stop()
        publish(now: Clock.monotonicSeconds())
    }

    /// Longest a round waits for its slowest sample before planning without it.
    static let roundWait = 5.0
    /// A shared object is moved in windows this size, one mbind each, so a
    /// stop request waits for one window only.
    static let objectWindowBytes: UInt64 = 16 << 20

    func openRound(now: Double) {
        round = now
        submitDue(now: now)
    }

    func pingWatchdog(now: Double) {
        guard settings.config.watchdog, let interval = environment.notifier.watchdogInterval else { return }
        if now - lastWatchdog >= interval.inSeconds / 2 {
            try? environment.notifier.watchdog()
            lastWatchdog = now
        }
    }

    // MARK: settings

    func takePendingSettings(now: Double) {
        guard let next = shared.withLock({ box -> Settings? in
            defer { box.pending = nil }
            if let pending = box.pending { box.settings = pending }
            return box.pending
        }) else { return }
        let policiesChanged = next.generation != settings.generation
        settings = next
        engine.config = Self.placementConfig(next.config, mode: environment.mode)
        // A changed policy is re-evaluated at once, not at the next scan.
        if policiesChanged {
            for pid in Array(tracked.keys) { tracked[pid]?.nextLook = now }
            lastListing = 0
        }
        lastPublished = 0   // the new generation shows at once
        logger.notice("reloaded", metadata: ["generation": "\(next.generation)",
                                             "policyFiles": "\(next.policies.files.count)"])
    }
}
