import CoreMetrics
import Metrics
import Foundation
import NUMAActuation
import Prometheus

/// The daemon's numbers in Prometheus' text format, through swift-metrics
/// handles made by a factory of our own registry (no global bootstrap, so
/// a library user's metrics system is left alone).
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let processes: CoreMetrics.Gauge
    private let balanced: CoreMetrics.Gauge
    private let weightedLocality: CoreMetrics.Gauge
    private let generation: CoreMetrics.Gauge
    private let rounds: CoreMetrics.Gauge
    private let samples: CoreMetrics.Gauge
    private let cpuSeconds: CoreMetrics.Gauge
    private let standalone: CoreMetrics.Gauge

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        processes = CoreMetrics.Gauge(label: "numabalance_processes_tracked", factory: factory)
        balanced = CoreMetrics.Gauge(label: "numabalance_processes_balanced", factory: factory)
        weightedLocality = CoreMetrics.Gauge(label: "numabalance_locality_rss_weighted", factory: factory)
        generation = CoreMetrics.Gauge(label: "numabalance_policy_generation", factory: factory)
        rounds = CoreMetrics.Gauge(label: "numabalance_sampling_rounds", factory: factory)
        samples = CoreMetrics.Gauge(label: "numabalance_pages_queried", factory: factory)
        cpuSeconds = CoreMetrics.Gauge(label: "numabalance_daemon_cpu_seconds", factory: factory)
        standalone = CoreMetrics.Gauge(label: "numabalance_standalone_mode", factory: factory)
    }

    /// One acted record: counted by kind and outcome, bytes and pages moved.
    func record(_ record: ActionRecord) {
        let dimensions = [("kind", record.action.kind), ("status", record.outcome.status.rawValue),
                          ("rule", record.action.reason.rule.rawValue)]
        CoreMetrics.Counter(label: "numabalance_actions_total", dimensions: dimensions, factory: factory).increment()
        if record.outcome.bytesMoved > 0 {
            CoreMetrics.Counter(label: "numabalance_migrated_bytes_total", factory: factory)
                .increment(by: Int64(clamping: record.outcome.bytesMoved))
            CoreMetrics.Counter(label: "numabalance_migrated_pages_total", factory: factory)
                .increment(by: Int64(record.outcome.pagesMoved))
        }
    }

    func update(_ report: StatusReport) {
        processes.record(report.totals.processesTracked)
        balanced.record(report.totals.processesBalanced)
        generation.record(Double(report.policyGeneration))
        rounds.record(report.totals.rounds)
        samples.record(report.totals.samples)
        cpuSeconds.record(report.totals.daemonCPUSeconds)
        standalone.record(report.mode == "standalone" ? 1 : 0)
        var weight = 0.0
        var sum = 0.0
        for p in report.processes {
            guard let locality = p.locality, let rss = p.rssBytes else { continue }
            weight += Double(rss)
            sum += Double(rss) * locality
        }
        if weight > 0 { weightedLocality.record(sum / weight) }
    }

    /// The exposition text.
    public func text() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
