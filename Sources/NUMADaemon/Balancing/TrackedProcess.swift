import NUMAModel
import NUMAPolicy
import NUMASampling

/// What the daemon keeps of one process between rounds: who it is, which
/// policy took it, when it is next looked at, and what was last done.
/// A class: the loop reads a few fields of every process each second, and a
/// struct this size (its last observation, its policy) was copied whole at
/// each read. Only the balancing thread touches it.
final class TrackedProcess {
    enum Standing: String, Sendable, Codable {
        /// Sampled at its scan period; the engine or a policy places it.
        case balanced
        /// Below `sampling.minRSS`: looked at again later, not sampled.
        case small
        /// Its policy says `ignore`.
        case ignored
        /// Never acted on: pid 1, numabalance itself.
        case exempt
        /// Another user's process this daemon may not read (a capability is missing).
        case unreadable
    }

    var identity: ProcessIdentity
    var comm: String
    var standing: Standing
    var policy: Policy
    /// The policy generation it was matched under (a reload re-matches).
    var generation: UInt64
    /// Monotonic seconds: the next sampling round, or the next look at a small process.
    var nextLook: Double
    /// Its CPU interval was started at discovery (the first round measures it).
    var primed = false
    /// Pages the last round queried: what the next round is charged in advance.
    var lastSamples = 1024
    var last: Observation?
    /// Its CPU rate at the look before `last` (nil: none yet).
    var previousCPURate: Double?
    /// Resident bytes when it was found (the first round's baseline for
    /// "still allocating").
    var foundRSS: UInt64?
    /// Rounds in a row it was found still setting up (not placed yet).
    var settlingRounds = 0
    /// Seen settled once: setting up is over for good.
    var settled = false
    var lastAction: String?
    var lastReason: String?
    /// Wall-clock time of an earlier run's last act on it, from the journal.
    var actedAtWall: Double?
    /// Why its locality stays below target when the daemon knows (numa02).
    var note: String?
    /// When numabalance last moved its threads (monotonic), for a policy's cool-down.
    var threadsMovedAt: Double?
    /// The affinity numabalance set, to tell its own pin from the user's.
    var ownAffinity: CPUSet?
    /// Its mappings named like SysV segments that are not were logged (once a process).
    var forgeryLogged = false

    init(identity: ProcessIdentity, comm: String, standing: Standing, policy: Policy, generation: UInt64,
         nextLook: Double) {
        self.identity = identity
        self.comm = comm
        self.standing = standing
        self.policy = policy
        self.generation = generation
        self.nextLook = nextLook
    }

    /// Placed by its policy (pin, preferred, interleave), not by the engine.
    var isDirected: Bool {
        standing == .balanced && [.pin, .preferred, .interleave].contains(policy.placement.mode)
    }
}

extension SamplingOutcome {
    /// The process the outcome is about.
    var pid: Int32 {
        switch self {
        case .observed(let report, _): report.observation.identity.pid
        case .failed(let pid, _, _): pid
        }
    }
}
