import NUMAActuation
import NUMAModel
import Prometheus
import Synchronization

/// The daemon's numbers in Prometheus' text format, made in a registry of
/// our own (no global bootstrap, so a library user's metrics are left
/// alone). Named as Prometheus asks: a counter ends in `_total`, a unit is
/// in the name, and every family has its `# HELP` and `# TYPE` (checked
/// with promtool in the tests).
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let processes: Gauge
    private let balanced: Gauge
    private let locality: Gauge
    private let generation: Gauge
    private let rounds: Counter
    private let samples: Counter
    private let cpuSeconds: Counter
    private let bytesMoved: Counter
    private let pagesMoved: Counter
    /// The status report's totals are running sums: the counters advance by
    /// the difference from the last report.
    private let last = Mutex(Totals())

    private struct Totals {
        var rounds = 0
        var samples = 0
        var cpuSeconds = 0.0
        var mode = ""
    }

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        processes = registry.makeGauge(name: "numabalance_processes_tracked",
                                       help: "Processes the daemon tracks (every process it has listed).")
        balanced = registry.makeGauge(name: "numabalance_processes_balanced",
                                      help: "Processes sampled and placed (not small, ignored, exempt or unreadable).")
        locality = registry.makeGauge(name: "numabalance_locality_ratio",
                                      help: "Locality of the balanced processes (0 to 1), weighted by resident memory.")
        generation = registry.makeGauge(name: "numabalance_policy_generation",
                                        help: "Generation of the policy set in force; a reload that took adds one.")
        rounds = registry.makeCounter(name: "numabalance_sampling_rounds_total",
                                      help: "Sampling rounds run since start.")
        samples = registry.makeCounter(name: "numabalance_sampled_pages_total",
                                       help: "Pages queried with move_pages since start.")
        cpuSeconds = registry.makeCounter(name: "numabalance_cpu_seconds_total",
                                          help: "The daemon's own CPU time, user and system, since start.")
        bytesMoved = registry.makeCounter(name: "numabalance_migrated_bytes_total",
                                          help: "Bytes of memory the daemon moved between nodes.")
        pagesMoved = registry.makeCounter(name: "numabalance_migrated_pages_total",
                                          help: "Pages the daemon moved between nodes.")
        registry.makeGauge(name: "numabalance_build_info", labels: [("version", NumaBalanceVersion.string)],
                           help: "Always 1; the version in its label.").set(1.0)
    }

    /// One acted record: counted by kind, outcome and rule; bytes and pages moved.
    func record(_ record: ActionRecord) {
        let labels = [("kind", record.action.kind), ("status", record.outcome.status.rawValue),
                      ("rule", record.action.reason.rule.rawValue)]
        registry.makeCounter(name: "numabalance_actions_total", labels: labels,
                             help: "Acts carried out, by kind, outcome and the rule that chose them.").increment()
        if record.outcome.bytesMoved > 0 {
            bytesMoved.increment(by: Int64(clamping: record.outcome.bytesMoved))
            pagesMoved.increment(by: Int64(record.outcome.pagesMoved))
        }
    }

    func update(_ report: StatusReport) {
        processes.set(Double(report.totals.processesTracked))
        balanced.set(Double(report.totals.processesBalanced))
        generation.set(Double(report.policyGeneration))
        let (before, modeChanged) = last.withLock { last in
            let before = last
            last.rounds = max(last.rounds, report.totals.rounds)
            last.samples = max(last.samples, report.totals.samples)
            last.cpuSeconds = max(last.cpuSeconds, report.totals.daemonCPUSeconds)
            last.mode = report.mode
            return (before, before.mode != report.mode)
        }
        if report.totals.rounds > before.rounds { rounds.increment(by: Int64(report.totals.rounds - before.rounds)) }
        if report.totals.samples > before.samples {
            samples.increment(by: Int64(report.totals.samples - before.samples))
        }
        if report.totals.daemonCPUSeconds > before.cpuSeconds {
            cpuSeconds.increment(by: report.totals.daemonCPUSeconds - before.cpuSeconds)
        }
        if modeChanged { setMode(report.mode, was: before.mode) }
        var weight = 0.0
        var sum = 0.0
        for p in report.processes {
            guard let locality = p.locality, let rss = p.rssBytes else { continue }
            weight += Double(rss)
            sum += Double(rss) * locality
        }
        if weight > 0 { locality.set(sum / weight) }
    }

    /// `numabalance_mode{mode="standalone"} 1`: the mode in force as a label
    /// (info style), the other mode's series at 0.
    private func setMode(_ mode: String, was: String) {
        let help = "1 for the mode in force, 0 for the other (standalone: the kernel's balancing is off; hybrid: both balance)."
        if !was.isEmpty { registry.makeGauge(name: "numabalance_mode", labels: [("mode", was)], help: help).set(0.0) }
        registry.makeGauge(name: "numabalance_mode", labels: [("mode", mode)], help: help).set(1.0)
    }

    /// The exposition text.
    public func text() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
