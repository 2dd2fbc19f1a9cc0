import Foundation
import Glibc
import NUMAActuation
import NUMAModel
import Testing
@testable import NUMADaemon

/// The metrics scrape as Prometheus' own rules want it (issue 18): every
/// family has # HELP and # TYPE, a counter ends in _total, units are in the
/// name; promtool (Debian's prometheus package, which Tests/run unpacks)
/// has the last word.
@Suite struct MetricsExpositionTests {
    /// A daemon's metrics after two status reports and three acts.
    static func scrape() -> String {
        let metrics = DaemonMetrics()
        var report = StatusReport()
        report.mode = "standalone"
        report.policyGeneration = 2
        report.totals.processesTracked = 40
        report.totals.processesBalanced = 3
        report.totals.rounds = 10
        report.totals.samples = 5_000
        report.totals.daemonCPUSeconds = 0.5
        metrics.update(report)
        report.totals.rounds = 25
        report.totals.samples = 9_000
        report.totals.daemonCPUSeconds = 0.75
        report.mode = "hybrid"
        metrics.update(report)
        let pin = Action.setAffinity(SetAffinity(process: ProcessIdentity(pid: 10, startTime: 1), cpus: CPUSet([0]),
                                                 nodes: [NodeID(0)], reason: Reason(rule: .cpuFollowsMemory, summary: "t")))
        var moved = ActionOutcome(status: .done, summary: "moved")
        moved.bytesMoved = 8_192
        moved.pagesMoved = 2
        metrics.record(ActionRecord(action: pin, outcome: ActionOutcome(status: .done, summary: "pinned")))
        metrics.record(ActionRecord(action: pin, outcome: ActionOutcome(status: .failed, summary: "gone")))
        metrics.record(ActionRecord(action: pin, outcome: moved))
        return metrics.text()
    }

    @Test("every family has HELP and TYPE; counters end in _total and are counters; totals advance by difference")
    func namingRules() {
        let text = Self.scrape()
        var types: [String: String] = [:]
        var helps = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("# ") {
            let parts = line.split(separator: " ", maxSplits: 3)
            guard parts.count >= 3 else { continue }
            if parts[1] == "TYPE" { types[String(parts[2])] = parts.count > 3 ? String(parts[3]) : "" }
            if parts[1] == "HELP", parts.count > 3, !parts[3].isEmpty { helps.insert(String(parts[2])) }
        }
        #expect(types.count >= 12, "\(types.keys.sorted())")
        for (family, type) in types {
            #expect(helps.contains(family), "\(family) has no # HELP")
            #expect((type == "counter") == family.hasSuffix("_total"), "\(family) is a \(type)")
        }
        #expect(text.contains("numabalance_sampling_rounds_total 25\n"), "\(text)")
        #expect(text.contains("numabalance_sampled_pages_total 9000\n"))
        #expect(text.contains("numabalance_cpu_seconds_total 0.75\n"))
        #expect(text.contains("numabalance_migrated_bytes_total 8192\n"))
        #expect(text.contains("numabalance_mode{mode=\"hybrid\"} 1.0\n") && text.contains("numabalance_mode{mode=\"standalone\"} 0.0\n"))
        #expect(text.contains("numabalance_build_info{version=\"\(NumaBalanceVersion.string)\"} 1.0\n"))
        #expect(text.contains("status=\"failed\""))
    }

    static let promtool = ProcessInfo.processInfo.environment["NUMABALANCE_PROMTOOL"]
        ?? ["/usr/bin/promtool", "/var/cache/numabalance-tests/promtool"].first { access($0, X_OK) == 0 }

    @Test(.enabled("promtool is missing: Tests/run unpacks it from Debian's prometheus package (as root)") {
        promtool != nil || geteuid() == 0 || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
    })
    func promtoolCheckMetrics() throws {
        let tool = try #require(Self.promtool, "promtool is missing: run Tests/run, which unpacks it")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(Self.scrape().utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // promtool prints a line per rule broken (a lint problem exits 3, an error 1).
        #expect(process.terminationStatus == 0 && said.isEmpty, "promtool check metrics: \(said)")
    }
}
