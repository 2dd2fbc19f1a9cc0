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
/// actuator with the journal, publish the status. Moves run on the movers
/// (one thread per node); this thread goes on meanwhile, and status and
/// reload are served by the control thread.
final class Balancer: @unchecked Sendable {
    // @unchecked: every mutable field below is touched only by the loop's own
    // thread; what other threads see goes through `shared` (a Mutex).

    struct Shared: Sendable {
        var settings: Settings
        var pending: Settings?
        var status = StatusReport()
    }

    let shared: Mutex<Shared>
    let environment: DaemonEnvironment
    let logger: Logger
    /// The sampler threads, the kernel, the journal: what the loop works with.
    let tools: LoopTools
    var settings: Settings
    var engine: PlacementEngine
    /// The processes known: tracked, awaiting a match, at a sampler.
    var processes = ProcessTable()
    /// Rounds, the sampling budget, the watchdog and status times.
    var clock: LoopClock
    /// The topology and each node's busy time as last read.
    var machine: MachineView
    /// What acting left: releases due, budgets, own pins, cool-downs, totals.
    var acts = ActingMemory()

    /// Asked by the service on SIGTERM: the batches in flight end, then the loop.
    var stop: StopSignal { tools.stop }

    init(environment: DaemonEnvironment, settings: Settings, topology: Topology, logger: Logger) throws {
        self.environment = environment
        self.settings = settings
        self.logger = logger
        machine = MachineView(topology: topology)
        engine = PlacementEngine(config: Self.placementConfig(settings.config, mode: environment.mode))
        clock = LoopClock(sampleTokens: Double(settings.config.sampling.maxSamplesPerSecond))
        shared = Mutex(Shared(settings: settings))
        let wake = LoopWake()
        do {
            tools = LoopTools(wake: wake, pool: try SamplerPool(sampler: ProcessSampler(topology: topology)),
                              journal: Journal.inDirectory(settings.config.stateDirectory),
                              events: environment.processEvents.map { ProcessEventThread(connector: $0) { wake.signal() } },
                              movers: Self.startMovers(topology: topology, logger: logger) { wake.signal() })
        } catch {
            throw DaemonError("cannot start the sampler threads: \(error)")
        }
        resumeFromJournal()
        publish(now: Clock.monotonicSeconds())   // status answers from READY=1 on
    }

    /// The movers, or nil (with a warning) when a thread cannot start or pin.
    static func startMovers(topology: Topology, logger: Logger, wake: @escaping @Sendable () -> Void) -> NodeMovers? {
        do {
            let movers = try NodeMovers(topology: topology, wake: wake)
            try movers.start()
            return movers
        } catch {
            logger.warning("no mover threads: moves run on the balancing thread", metadata: ["error": "\(error)"])
            return nil
        }
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

    // MARK: the loop

    /// Runs until `stop` is requested; the batch in flight finishes first.
    ///
    /// Sampling goes in rounds, one every `scanPeriod.min` at most: every
    /// process due by then is sampled, and the engine plans once all of them
    /// are back (or after `roundWait`). Processes that share nodes are thus
    /// judged together — two spread processes that each fit a node can only
    /// be gathered when both are lifted in the same plan.
    func run() {
        while !stop.isRequested {
            let now = Clock.monotonicSeconds()
            takePendingSettings(now: now)
            if now >= listingDue {
                discover(now: now)
            } else if let events = tools.events {
                // Taken once the first of them is a start delay old: none is looked at sooner.
                if let since = events.pendingSince(), now >= since + Self.startDelay { follow(events.take(), now: now) }
                if !processes.started.isEmpty { lookAtStarted(now: now) }
                processes.lastStartPass = now
                if now >= recheckDue { recheckTracked(now: now) }
            }
            for answer in tools.matchThread.takeAnswers() { matched(answer, now: now) }
            takeMoverNews(now: now)
            if !acts.releases.isEmpty {
                let pending = acts.releases
                acts.releases = []
                act(pending, now: now)
                clock.lastPublished = 0
            }
            if clock.round == nil, now >= min(clock.nextRoundAt, clock.soonestLook) { openRound(now: now) }
            let arrived = tools.inbox.withLock { box in defer { box = [] }; return box }
            for outcome in arrived { processes.inFlight.remove(outcome.pid) }
            clock.collected += arrived
            if let started = clock.round, processes.inFlight.isEmpty || now - started > Self.roundWait {
                clock.round = nil
                clock.nextRoundAt = started + engine.config.scanPeriodMin
                let outcomes = clock.collected
                clock.collected = []
                clock.roundStart = started
                if !outcomes.isEmpty { balance(outcomes, now: Clock.monotonicSeconds()) }
                clock.lastPublished = 0   // a round ended: show it now
            }
            // The status of every tracked process is rebuilt after a round or
            // an act, else once a second: not at every wake-up.
            if Clock.monotonicSeconds() >= publishDue {
                publish(now: Clock.monotonicSeconds())
                clock.lastPublished = Clock.monotonicSeconds()
            }
            pingWatchdog(now: Clock.monotonicSeconds())
            tools.wake.sleep(until: nextDue(now: Clock.monotonicSeconds()))
        }
        tools.pool.stop()
        tools.matchThread.stop()
        tools.events?.stop()
        tools.movers?.stop()   // each ends its batch in hand: the stop signal is up
        takeMoverNews(now: Clock.monotonicSeconds())
        publish(now: Clock.monotonicSeconds())
    }

    /// When the loop has something to do next, unless a thread wakes it
    /// sooner: the next round (or a look wanted sooner), the open round's
    /// wait for its slowest sample, the next listing or recheck, a started
    /// process's first look, the status, the watchdog.
    func nextDue(now: Double) -> Double {
        if !acts.releases.isEmpty { return now }
        var due = min(publishDue, listingDue)
        if let started = clock.round {
            due = min(due, started + Self.roundWait)
        } else {
            due = min(due, clock.nextRoundAt, clock.soonestLook)
        }
        if let events = tools.events {
            due = min(due, recheckDue)
            // New processes in passes a quarter second apart at most: a
            // fork storm's starts are not a wake-up each.
            var starts = Double.infinity
            if let since = events.pendingSince() { starts = since + Self.startDelay }
            if let first = processes.started.values.min() { starts = min(starts, first + Self.startDelay) }
            due = min(due, max(starts, processes.lastStartPass + Self.startPassGap))
        }
        if let watchdog = watchdogDue { due = min(due, watchdog) }
        return due
    }

    // When each periodic duty is next due: the loop's pass and its sleep
    // (nextDue) read the same times.

    /// The next /proc listing (each second without the process events).
    var listingDue: Double { processes.lastListing + listingInterval }
    /// The known processes' looks between listings (with the process events).
    var recheckDue: Double { processes.lastRecheck + 1 }
    /// The status once a second (a round or an act sets it due at once).
    var publishDue: Double { clock.lastPublished + 1 }
    /// Half the unit's WatchdogSec=; nil when there is none to ping.
    var watchdogDue: Double? {
        guard settings.config.watchdog, let interval = environment.notifier.watchdogInterval else { return nil }
        return clock.lastWatchdog + interval.inSeconds / 2
    }

    /// The shortest time between two passes over new processes.
    static let startPassGap = 0.25

    /// Wakes the loop from its sleep (a stop request, new settings).
    func wake() { tools.wake.signal() }

    /// Longest a round waits for its slowest sample before planning without it.
    static let roundWait = 5.0
    /// A shared object is moved in windows this size, one mbind each, so a
    /// stop request waits for one window only.
    static let objectWindowBytes: UInt64 = 16 << 20

    func openRound(now: Double) {
        clock.round = now
        clock.soonestLook = .infinity
        submitDue(now: now)
    }

    func pingWatchdog(now: Double) {
        guard let due = watchdogDue, now >= due else { return }
        try? environment.notifier.watchdog()
        clock.lastWatchdog = now
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
            for pid in Array(processes.tracked.keys) { processes.tracked[pid]?.nextLook = now }
            processes.lastListing = -.infinity
        }
        clock.lastPublished = 0   // the new generation shows at once
        logger.notice("reloaded", metadata: ["generation": "\(next.generation)",
                                             "policyFiles": "\(next.policies.files.count)"])
    }
}
