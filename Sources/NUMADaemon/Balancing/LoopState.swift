import Foundation
import NUMAActuation
import NUMAModel
import NUMAProc
import NUMAPolicy
import NUMASampling
import NUMASystem
import NUMATopology
import Synchronization

/// The loop's instruments, made once: the sampler threads, the kernel and
/// /proc, the policy matcher's thread, the journal, and where samples land.
final class LoopTools {
    /// What the loop sleeps on between its due times; made first, as every
    /// thread below signals it.
    let wake: LoopWake
    let pool: SamplerPool
    let kernel = LinuxKernel()
    let procfs = ProcFS()
    let factsReader = ProcessFactsReader()
    /// Policy sets with cmdline regexes are matched there, not on the loop's thread.
    let matchThread: PolicyMatchThread
    let journal: Journal
    let selfPID = Host.pid
    let ticksPerSecond = Double(Host.clockTicksPerSecond)
    /// Outcomes the sampler threads hand back, taken by the loop when it wakes.
    let inbox = Mutex<[SamplingOutcome]>([])
    /// Samples handed out and not back: the last one back wakes the loop
    /// (once a round, not once a process).
    let samplesOut = Atomic<Int>(0)
    let stop = StopSignal()
    /// The kernel's process events, when the proc connector was opened at
    /// start (it needs CAP_NET_ADMIN then): new processes seen at once.
    let events: ProcessEventThread?
    /// One mover thread per node; nil when they could not start (acting
    /// then runs on the loop's thread, as before them).
    let movers: NodeMovers?

    init(wake: LoopWake, pool: SamplerPool, journal: Journal, events: ProcessEventThread?, movers: NodeMovers?) {
        self.wake = wake
        matchThread = PolicyMatchThread { [wake] in wake.signal() }
        self.pool = pool
        self.journal = journal
        self.events = events
        self.movers = movers
    }
}

/// The processes the loop knows, by pid.
struct ProcessTable {
    var tracked: [Int32: TrackedProcess] = [:]
    /// Processes handed to the match thread, until their answer is back.
    var awaitingMatch: [Int32: ProcessIdentity] = [:]
    /// Pids handed to a sampler thread whose outcome has not come back: a
    /// set, so the loop's "round complete?" never walks every process.
    var inFlight = Set<Int32>()
    /// Kernel threads seen in the listing, with when to check the pid again
    /// (a server has hundreds; reading each one's stat every second is waste).
    var kernelThreads: [Int32: Double] = [:]
    /// -infinity: list at the next tick (at start, after a reload, after lost events).
    var lastListing = -Double.infinity
    /// When the known processes' looks were last checked (each second).
    var lastRecheck = 0.0
    /// Pids the process events reported started, with when: looked at once
    /// `Balancer.startDelay` old (most short-lived ones are gone by then).
    var started: [Int32: Double] = [:]
    /// When the loop last took the events and looked at the started.
    var lastStartPass = -Double.infinity
    /// Processes whose migration failed in the last act (the engine's
    /// numa_faults_locality[2]: their scan period backs off).
    var failedLastRound = Set<ProcessIdentity>()
}

/// The loop's times: the round open and the next, the samples-per-second
/// bucket, the watchdog and the status last published.
struct LoopClock {
    var round: Double?
    /// The start of the round being planned: scans are put on its grid.
    var roundStart = 0.0
    var nextRoundAt = 0.0
    /// A look wanted sooner than the next round (a new process, a second
    /// look): a round of its own opens then.
    var soonestLook = Double.infinity
    var collected: [SamplingOutcome] = []
    var sampleTokens: Double
    var sampleTokensAt = 0.0
    var lastWatchdog = 0.0
    var lastPublished = 0.0
    var startedAt = Clock.monotonicSeconds()

    init(sampleTokens: Double) { self.sampleTokens = sampleTokens }
}

/// The machine as the loop last read it: the topology (free memory and
/// watermarks every 5 s), and the CPU times behind each node's busy load.
struct MachineView {
    var topology: Topology
    var topologyReadAt = 0.0
    /// /proc/stat's per-CPU times at the last plan: each node's busy time
    /// since then is load the engine must count (NodeBusy).
    var cpuTimesAtLastPlan: [CPUTimes] = []
    /// The daemon's own threads then: its own CPU time is not a workload's.
    var ownThreadsAtLastPlan: [Int32: ThreadReading] = [:]
    var lastPlanAt = 0.0

    init(topology: Topology) { self.topology = topology }
}

/// What acting leaves behind for the rounds after.
struct ActingMemory {
    /// Affinity that children inherited from numabalance's pin of their parent.
    var releases: [Action] = []
    /// Token buckets that live across rounds: the daemon's (key "") and one
    /// per policy with its own `memory.maxRateMBps` (never above the daemon's).
    var buckets: [String: TokenBucket] = [:]
    /// Cool-downs and numabalance's own pins, read back from the journal.
    var ownAffinities: [ProcessIdentity: CPUSet] = [:]
    var actedAtWall: [ProcessIdentity: Double] = [:]
    var totals = StatusReport.Totals()
    /// Jobs handed to the movers so far (their ids).
    var jobs = 0
    /// Processes with a mover's job not finished, and how many: not sampled
    /// meanwhile (a look mid-move sees pages in transit).
    var moving: [Int32: Int] = [:]
}
