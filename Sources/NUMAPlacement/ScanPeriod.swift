/// The per-process scan period, as the kernel's update_task_scan_period
/// computes it. DESIGN.md says to follow the kernel's code rather than its
/// comments, which describe the two "grow" branches the other way round.
public enum ScanPeriod {
    /// What one round learned, in the kernel's terms (counts of samples or faults).
    public struct Signal: Hashable, Sendable {
        public var local: Double
        public var remote: Double
        public var privateFaults: Double
        public var sharedFaults: Double
        /// A migration the last plan asked for failed (numa_faults_locality[2]).
        public var migrationFailed: Bool

        public init(local: Double, remote: Double, privateFaults: Double, sharedFaults: Double,
                    migrationFailed: Bool = false) {
            self.local = local
            self.remote = remote
            self.privateFaults = privateFaults
            self.sharedFaults = sharedFaults
            self.migrationFailed = migrationFailed
        }
    }

    /// Which branch decided, for the explanation.
    public enum Step: String, Hashable, Sendable {
        case backOff = "no local or shared faults, or a failed migration: double"
        case growPrivate = "mostly private: grow"
        case growLocal = "mostly local: grow"
        case shrink = "shrink"
    }

    /// The next period, in seconds, clamped to [min, max].
    ///
    /// - No local and no shared faults (the kernel tests `local + shared == 0`,
    ///   not `local + remote`), or a failed migration: double.
    /// - Else `slot = ceil(period / 10)`, `lr = ⌊10·local/(local+remote)⌋`,
    ///   `ps = ⌊10·private/(private+shared)⌋`:
    ///   `ps ≥ 7` grows by max(1, ps − 7) slots; else `lr ≥ 7` grows by
    ///   max(1, lr − 7) slots; else it shrinks by (7 − max(lr, ps)) slots.
    public static func next(period: Double, signal: Signal, min lower: Double, max upper: Double)
        -> (period: Double, step: Step)
    {
        let slots = Double(KernelConstants.numaPeriodSlots)
        let threshold = KernelConstants.numaPeriodThreshold
        if signal.local + signal.sharedFaults <= 0 || signal.migrationFailed {
            return (Swift.min(upper, Swift.max(lower, period * 2)), .backOff)
        }
        // The kernel works in milliseconds: DIV_ROUND_UP(period, NUMA_PERIOD_SLOTS).
        let periodMillis = (period * 1000).rounded()
        let slot = (periodMillis / slots).rounded(.up) / 1000
        let lr = ratio(signal.local, of: signal.local + signal.remote)
        let ps = ratio(signal.privateFaults, of: signal.privateFaults + signal.sharedFaults)
        let diff: Double
        let step: Step
        if ps >= threshold {
            diff = Double(Swift.max(1, ps - threshold)) * slot
            step = .growPrivate
        } else if lr >= threshold {
            diff = Double(Swift.max(1, lr - threshold)) * slot
            step = .growLocal
        } else {
            diff = -Double(threshold - Swift.max(lr, ps)) * slot
            step = .shrink
        }
        return (Swift.min(upper, Swift.max(lower, period + diff)), step)
    }

    /// ⌊slots · part / whole⌋, 0 when there is nothing to divide.
    static func ratio(_ part: Double, of whole: Double) -> Int {
        guard whole > 0 else { return 0 }
        // The epsilon keeps 7/10 from flooring to 6 through binary rounding.
        return Int((Double(KernelConstants.numaPeriodSlots) * part / whole + 1e-9).rounded(.down))
    }
}
