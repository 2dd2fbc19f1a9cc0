import NUMAModel

/// The daemon's last word on the engine's actions: what a policy or the
/// cool-down holds back. The engine keeps its own cool-downs for what this
/// run did (and lets memory follow threads it just moved); these rules add
/// what it cannot know: the policy's settings and the acts of an earlier
/// run, from the journal.
public enum Admission {
    /// What the rules read of one process the action touches.
    public struct Process: Sendable {
        public var policyName: String
        /// `memory.migrate` of its policy: false keeps its pages where they are.
        public var migratesMemory: Bool
        /// The cool-down in force: the policy's, else the daemon's.
        public var cooldownSeconds: Double
        /// The policy's own cool-down, when it sets one (for moving threads).
        public var policyCooldownSeconds: Double?
        /// When an earlier run acted on it (wall clock, from the journal).
        public var actedAtWall: Double?
        /// When this run last moved its threads (monotonic).
        public var threadsMovedAt: Double?
        /// Neither sharing memory nor grouped by its policy.
        public var alone: Bool
        public var locality: Double?
        public var localityTarget: Double
        /// CPU seconds per second of wall time (1 = one whole CPU), summed
        /// over its threads: the lower of its last two looks' rates.
        public var cpuRate: Double

        public init(policyName: String, migratesMemory: Bool, cooldownSeconds: Double, policyCooldownSeconds: Double?,
                    actedAtWall: Double?, threadsMovedAt: Double?, alone: Bool, locality: Double?,
                    localityTarget: Double, cpuRate: Double = 1) {
            self.policyName = policyName
            self.migratesMemory = migratesMemory
            self.cooldownSeconds = cooldownSeconds
            self.policyCooldownSeconds = policyCooldownSeconds
            self.actedAtWall = actedAtWall
            self.threadsMovedAt = threadsMovedAt
            self.alone = alone
            self.locality = locality
            self.localityTarget = localityTarget
            self.cpuRate = cpuRate
        }
    }

    /// Why `action` is held back for `process`, or nil when it may go.
    /// `soleProcess`: the action touches this process alone.
    public static func refusal(_ action: Action, process p: Process, soleProcess: Bool,
                               now: Double, wallNow: Double) -> String? {
        if !p.migratesMemory, action.bytes > 0 {
            return "memory stays: policy \(p.policyName) has memory.migrate: false"
        }
        if let acted = p.actedAtWall, wallNow - acted < p.cooldownSeconds {
            return "[cool-down] acted on \(Int(wallNow - acted)) s ago; next action after \(Int(p.cooldownSeconds)) s"
        }
        // A policy's own cool-down, for moving threads (memory may still
        // follow the threads moved, as the engine plans it).
        if let own = p.policyCooldownSeconds, action.bytes == 0, let moved = p.threadsMovedAt,
           now - moved < own, action.reason.rule != .release {
            return "[cool-down] policy \(p.policyName): threads moved \(Int(now - moved)) s ago (cooldown \(Int(own)) s)"
        }
        // A process that barely ran gives no sign of where its threads
        // belong: one clock tick of a supervisor waking to reap its children
        // reads as "100 % of its CPU on node 1", and one look at it tearing
        // down (unmapping its segments as it exits) as a busy process. The
        // kernel scans a task only once it has run a whole scan period of
        // CPU time (task_tick_numa; 1 s at least), which such a process
        // takes minutes to gather; here it must be busy at two looks in a
        // row, as memory must be misplaced at two (the two-stage filter). A
        // PostgreSQL postmaster and an idle supervisor were both pinned away
        // from their segments' node before. Nor does its private memory
        // follow where those few ticks ran (a supervisor's own 96 KiB were
        // moved so); a group's shared memory still follows the group, and a
        // release of an inherited pin still goes.
        if p.cpuRate < minimumCPURate, action.movesThreads || action.followsCPU, action.reason.rule != .release {
            return "[idle] used \(Percent.text(p.cpuRate)) of a CPU at one of its last two looks "
                + "(under \(Percent.text(minimumCPURate, digits: 0))): "
                + "its threads and private memory are left where they are"
        }
        // Not for a group's member: the engine moves a group whole, and
        // dropping one member's part would split it across nodes. Nor for a
        // spread: its aim is an even layout over the nodes its threads were
        // given, which the locality of one look does not measure (numa01 in
        // 4x1, its two threads sampled on one node of their two, read 100 %
        // local and its spread was dropped for a minute).
        if soleProcess, p.alone, let locality = p.locality, locality >= p.localityTarget,
           action.reason.rule != .release, action.reason.rule != .spreadOverActiveNodes {
            return "locality \(Percent.whole(locality)) is at its target: left alone"
        }
        return nil
    }

    /// Below this CPU rate a process's threads and private memory are not
    /// moved: a tenth of one CPU. The kernel scans a task once per scan
    /// period of its own CPU time, so one at 10 % is looked at every 10 s at
    /// the shortest period; a supervisor spawning its workers ran at a few
    /// percent in the lab, and was pinned at 2 %.
    public static let minimumCPURate = 0.1

    /// A look's CPU rate for the `[idle]` rule: its CPU seconds over its
    /// interval, counted as a second at least. CPU time comes in clock
    /// ticks (10 ms): one tick in a second look 0.3 s after the first would
    /// read as 3 % busy.
    public static func busyRate(_ look: Observation) -> Double {
        look.cpuRate * min(1, look.intervalSeconds)
    }
}

extension Action {
    /// Whether it changes where threads may run (an affinity or a swap).
    var movesThreads: Bool {
        switch self {
        case .setAffinity, .swap: true
        default: false
        }
    }

    /// A process's private memory moved to where its threads ran.
    var followsCPU: Bool {
        switch self {
        case .movePages, .moveRanges: reason.rule == .memoryFollowsCPU
        default: false
        }
    }
}
