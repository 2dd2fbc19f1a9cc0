import NUMAModel

/// Constants of the kernel's NUMA balancing (kernel/sched/fair.c), kept
/// under their kernel names so a reader can find them there.
public enum KernelConstants {
    /// A swap must improve the combined score by at least this much
    /// (scores are 1000 × fault share), else tasks would ping-pong.
    public static let smallImp = 30
    /// A node is an active node of a group when its CPU faults exceed
    /// 1/ACTIVE_NODE_FRACTION of the group's busiest node.
    public static let activeNodeFraction = 3
    /// update_task_scan_period divides the period in this many slots…
    public static let numaPeriodSlots = 10
    /// …and slows down when 7 of 10 faults are local, or private.
    public static let numaPeriodThreshold = 7
    /// Task weights are fault shares scaled by this (task_weight).
    public static let weightScale = 1000
}

/// The engine's knobs. Defaults follow DESIGN.md.
public struct PlacementConfig: Hashable, Sendable, Codable {
    /// Measured busy time on a node beyond the processes the engine knows
    /// counts as load in whole CPUs of this many milli-CPUs (PlacementEngine.plan's nodeBusy).
    public static let unseenLoadUnit = 1000

    public var mode: PlacementMode
    /// Bounds of the scan period, in seconds (not scaled by RSS: a userspace
    /// round costs O(samples) whatever the size).
    public var scanPeriodMin: Double
    public var scanPeriodMax: Double
    /// A process acted on is left alone this long…
    public var cooldownSeconds: Double
    /// …unless its locality fell this far below what the action expected.
    public var sharpLocalityDrop: Double
    /// The preferred node changes only when the new node's faults beat the
    /// old one's by this fraction.
    public var preferredNodeMargin: Double
    /// Free memory kept above a node's high watermark, as a fraction of the node.
    public var reserveFraction: Double
    /// The migration budget (token bucket): rate and burst.
    public var budgetBytesPerSecond: Double
    public var budgetBurstSeconds: Double
    /// Swap candidates examined per destination node, per source node pair.
    public var swapCandidateCap: Int
    public var swapsEnabled: Bool
    /// A range whose sampled remote share is below this is left where it is
    /// (sampling noise, not misplacement).
    public var minRemoteShare: Double
    /// A unit runs "on" a node when this share of its runnable load is there.
    public var settledLoadShare: Double
    /// State of a process not observed for this long is forgotten…
    public var forgetAfterSeconds: Double

    /// …but never before two of its longest scan periods and a cool-down have
    /// passed: a process scanned every 10 minutes keeps its statistics, its
    /// cool-down and its pins between scans.
    public var stateLifetime: Double { max(forgetAfterSeconds, 2 * scanPeriodMax + cooldownSeconds) }

    public init(mode: PlacementMode = .standalone, scanPeriodMin: Double = 1, scanPeriodMax: Double = 60,
                cooldownSeconds: Double = 30, sharpLocalityDrop: Double = 0.25,
                preferredNodeMargin: Double = 0.125, reserveFraction: Double = 1.0 / 32,
                budgetBytesPerSecond: Double = 1024 * 1024 * 1024, budgetBurstSeconds: Double = 1,
                swapCandidateCap: Int = 16, swapsEnabled: Bool = true, minRemoteShare: Double = 0.1,
                settledLoadShare: Double = 0.95, forgetAfterSeconds: Double = 120) {
        self.mode = mode
        self.scanPeriodMin = scanPeriodMin
        self.scanPeriodMax = scanPeriodMax
        self.cooldownSeconds = cooldownSeconds
        self.sharpLocalityDrop = sharpLocalityDrop
        self.preferredNodeMargin = preferredNodeMargin
        self.reserveFraction = reserveFraction
        self.budgetBytesPerSecond = budgetBytesPerSecond
        self.budgetBurstSeconds = budgetBurstSeconds
        self.swapCandidateCap = swapCandidateCap
        self.swapsEnabled = swapsEnabled
        self.minRemoteShare = minRemoteShare
        self.settledLoadShare = settledLoadShare
        self.forgetAfterSeconds = forgetAfterSeconds
    }
}
