import Foundation
import NUMAModel

/// What `numabalance status` shows: the daemon's mode and settings in
/// force, totals, and each process it tracks with its last decision.
public struct StatusReport: Codable, Sendable, Hashable {
    public struct Totals: Codable, Sendable, Hashable {
        public var processesTracked = 0
        /// Sampled and placed (not small, ignored, exempt or unreadable).
        public var processesBalanced = 0
        /// Sampling rounds and pages queried since start.
        public var rounds = 0
        public var samples = 0
        public var actions = 0
        public var failures = 0
        public var pagesMoved = 0
        public var bytesMoved: UInt64 = 0
        /// The daemon's own CPU time (user + system) since start.
        public var daemonCPUSeconds = 0.0
        /// The balancing loop's sleeps since start: ended at its next due
        /// time (rounds, the status, rechecks), or cut short by a thread
        /// that left it work (samples back, process events, moves, reload).
        public var loopTimerWakeups = 0
        public var loopSignalledWakeups = 0
    }

    public struct Process: Codable, Sendable, Hashable {
        public var pid: Int32
        public var comm: String
        /// balanced, small, ignored, exempt, unreadable.
        public var standing: String
        public var policy: String
        public var mode: String
        /// Page share × CPU share over nodes at the last round; nil before
        /// the second round (no CPU interval yet) or when idle.
        public var locality: Double?
        public var pageShares: [String: Double]?
        public var rssBytes: UInt64?
        public var preferredNode: Int?
        /// The group key: a shared object, a cgroup or a parent.
        public var group: String?
        public var scanPeriodSeconds: Double?
        public var nextScanSeconds: Double?
        public var lastAction: String?
        public var lastReason: String?
        /// Why it stays below its target, when known.
        public var note: String?

        init(pid: Int32, comm: String, standing: String, policy: String, mode: String) {
            self.pid = pid
            self.comm = comm
            self.standing = standing
            self.policy = policy
            self.mode = mode
        }
    }

    public var pid: Int32 = 0
    /// standalone or hybrid (DESIGN.md "Two modes").
    public var mode = "standalone"
    public var kernelNumaBalancing: Int?
    public var kernelBalancing = "warn"
    public var dryRun = false
    public var configFile: String?
    public var policyGeneration: UInt64 = 0
    public var policyFiles: [String] = []
    public var capabilities: [String] = []
    public var uptimeSeconds = 0.0
    /// An act is running: the totals do not yet count it (a migrate_pages
    /// call adds its pages when it returns). Tests read totals when false.
    public var actionInFlight = false
    public var totals = Totals()
    public var processes: [Process] = []

    public init() {}

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// For a terminal: the header, then one line per balanced process.
    public var text: String {
        var lines: [String] = []
        let kernel = kernelNumaBalancing.map { "kernel.numa_balancing=\($0)" } ?? "kernel.numa_balancing absent"
        lines.append("numabalance daemon pid \(pid), up \(Int(uptimeSeconds)) s: \(mode) mode (\(kernel), "
            + "kernelBalancing: \(kernelBalancing))\(dryRun ? ", DRY RUN: nothing is changed" : "")")
        lines.append("config: \(configFile ?? "defaults (no file)"); policy generation \(policyGeneration), "
            + "\(policyFiles.count) file(s)")
        lines.append("capabilities kept: \(capabilities.isEmpty ? "none" : capabilities.joined(separator: " "))")
        lines.append("processes: \(totals.processesTracked) tracked, \(totals.processesBalanced) balanced; "
            + "rounds \(totals.rounds), pages queried \(totals.samples); actions \(totals.actions) "
            + "(\(totals.failures) failed or partial), \(totals.pagesMoved) pages moved; "
            + String(format: "daemon CPU %.2f s", totals.daemonCPUSeconds)
            + (actionInFlight ? "; an action is in flight" : ""))
        let shown = processes.filter { $0.standing != "small" }
        if !shown.isEmpty {
            lines.append("")
            lines.append("PID      COMM             POLICY           LOCALITY  PREF  SCAN    GROUP")
        }
        // Names, paths and the reasons that quote them come from the processes: escaped.
        let safe = { (text: String) in TerminalText.escaped(text) }
        for p in shown {
            let locality = p.locality.map { String(format: "%5.1f %%", $0 * 100) } ?? "    -  "
            let scan = p.scanPeriodSeconds.map { String(format: "%.0f s", $0) } ?? "-"
            lines.append(pad("\(p.pid)", 8) + " " + pad(safe(p.comm), 16) + " " + pad(safe(p.policy + "/" + p.mode), 16) + " "
                + pad(locality, 9) + " " + pad(p.preferredNode.map(String.init) ?? "-", 5) + " " + pad(scan, 7)
                + " " + safe(p.group ?? "-") + (p.standing == "balanced" ? "" : "  (\(p.standing))"))
            if let action = p.lastAction { lines.append("         last action: \(safe(action))") }
            if let reason = p.lastReason { lines.append("         why: \(safe(reason))") }
            if let note = p.note { lines.append("         note: \(safe(note))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
