// Issue 6's lab checks: `numabalance rebalance` on real 2x2 and 4x1 kernels.
// One guest per topology runs rebalance-<topology>.sh; the tests read what
// it wrote: rebalance's JSON, numa_maps before and after, thread affinities,
// vmstat's pgmigrate_success and the journal.
import Foundation
import Testing

/// `numabalance rebalance --json`, the keys the tests need.
struct RebalanceJSON: Decodable {
    struct Side: Decodable { var locality: Double? }
    struct ActionRow: Decodable {
        var kind: String
        var reason: String
        var status: String
        var pagesMoved: Int
    }

    var pid: Int
    var before: Side
    var after: Side
    var bytesMoved: UInt64
    var pagesMoved: Int
    var decision: String
    var actions: [ActionRow]
    var exitCode: Int32
    var error: String?
}

/// Guests of one family of checks (`PREFIX-TOPOLOGY.sh`), booted once each
/// under names of their own (their $LAB_OUT must not be the other suites').
actor ScriptRuns {
    static let rebalance = ScriptRuns(prefix: "rebalance", timeoutSeconds: 480)
    static let daemon = ScriptRuns(prefix: "daemon", timeoutSeconds: 1500)

    let prefix: String
    let timeoutSeconds: Int
    private var runs: [String: Task<LabRun, Error>] = [:]

    init(prefix: String, timeoutSeconds: Int) {
        self.prefix = prefix
        self.timeoutSeconds = timeoutSeconds
    }

    func completedRun(_ topology: String) async throws -> LabRun {
        try LabGuest.requireAvailable()
        let task = runs[topology] ?? Task { [prefix, timeoutSeconds] in
            try await LabGuest.boot(topology: topology, script: "\(prefix)-\(topology).sh",
                                    outName: "\(prefix)-\(topology)", timeoutSeconds: timeoutSeconds)
        }
        runs[topology] = task
        let run = try await task.value
        guard run.exitCode == 0 else { throw LabFailure("the \(topology) \(prefix) guest failed\n\(run.summary)") }
        return run
    }
}

extension LabRun {
    func rebalance(_ name: String) throws -> RebalanceJSON { try decode(RebalanceJSON.self, from: "\(name).json") }

    /// "tid cpus" lines written by the script's `affinity`.
    func affinity(_ name: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for line in try text("\(name)-affinity.txt").split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    func vmstatDelta(_ before: String, _ after: String) throws -> UInt64 {
        let b = UInt64(try text("\(before)-vmstat.txt").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let a = UInt64(try text("\(after)-vmstat.txt").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return a >= b ? a - b : 0
    }

    /// numa_maps lines of a snapshot whose mapping path contains `marker`.
    func numaMapsLines(_ snapshot: String, containing marker: String) throws -> [String] {
        try text("\(snapshot)-numa_maps.txt").split(separator: "\n").map(String.init).filter { $0.contains(marker) }
    }
}

/// Pages per node of a numa_maps line ("N0=12 N1=4").
func nodePageCounts(_ numaMapsLine: String) -> [Int: UInt64] {
    var result: [Int: UInt64] = [:]
    for token in numaMapsLine.split(separator: " ") where token.hasPrefix("N") {
        let parts = token.dropFirst().split(separator: "=")
        if parts.count == 2, let node = Int(parts[0]), let count = UInt64(parts[1]) { result[node, default: 0] += count }
    }
    return result
}

extension LabTests {
    @Suite("rebalance in 2x2 and 4x1")
    struct ActuatorChecks {
        /// misplaced: ≥ 95 % local after, moved ≤ 1.1 × misplaced (by the report and by the kernel's count).
        static func expectMisplacedFixed(_ run: LabRun, node: Int) throws {
            let report = try run.rebalance("misplaced-rebalance")
            #expect(try run.code("misplaced-rebalance.rc") == 0, "exit \(report.exitCode): \(run.contents("misplaced-rebalance.json"))")
            let before = try PagePlacementTruth(run, snapshot: "misplaced-before")
            let after = try PagePlacementTruth(run, snapshot: "misplaced-after")
            #expect(after.share(of: node) >= 0.95, "after rebalance: \(after.pagesByNode)")
            let misplaced = before.totalPages - (before.pagesByNode[node] ?? 0)
            // pgmigrate_success is system-wide (compaction counts too): shown, not judged.
            let moved = try run.vmstatDelta("misplaced-before", "misplaced-after")
            let arrived = (after.pagesByNode[node] ?? 0) - min(after.pagesByNode[node] ?? 0, before.pagesByNode[node] ?? 0)
            #expect(Double(arrived) <= 1.1 * Double(misplaced), "numa_maps: \(arrived) pages arrived for \(misplaced) misplaced")
            #expect(Double(report.pagesMoved) <= 1.1 * Double(misplaced))
            #expect(Double(report.pagesMoved) >= 0.9 * Double(misplaced), "report: \(report.pagesMoved) of \(misplaced)")
            #expect((report.after.locality ?? 0) >= 0.9, "re-sampled locality \(String(describing: report.after.locality))")
            print("ActuatorLab \(run.topology) misplaced: locality \(report.before.locality ?? -1) → \(report.after.locality ?? -1), "
                + "moved \(report.pagesMoved) pages (kernel \(moved)) for \(misplaced) misplaced, node \(node) share \(after.share(of: node))")
        }

        @Test("2x2 misplaced: ≥ 95 % local after rebalance, moved ≤ 1.1× misplaced")
        func misplaced2x2() async throws {
            try Self.expectMisplacedFixed(try await ScriptRuns.rebalance.completedRun("2x2"), node: 1)
        }

        @Test("4x1 misplaced: ≥ 95 % local after rebalance, moved ≤ 1.1× misplaced")
        func misplaced4x1() async throws {
            try Self.expectMisplacedFixed(try await ScriptRuns.rebalance.completedRun("4x1"), node: 2)
        }

        @Test("2x2: threads pinned with taskset to node 1: memory moves, affinity untouched")
        func userPinRespected() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            let report = try run.rebalance("pinned-rebalance")
            #expect(report.exitCode == 0, "\(run.contents("pinned-rebalance.json"))")
            #expect(try run.affinity("pinned-before") == run.affinity("pinned-after"))
            #expect(try run.affinity("pinned-after").values.allSatisfy { $0 == "2-3" })
            #expect(!report.actions.contains { $0.kind == "setAffinity" })
            let after = try PagePlacementTruth(run, snapshot: "pinned-after")
            #expect(after.share(of: 1) >= 0.95, "\(after.pagesByNode)")
        }

        @Test("2x2 numa02 with 2 threads fits one node: threads and memory end on one node")
        func numa02Fits() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            let report = try run.rebalance("numa02fit-rebalance")
            print("ActuatorLab numa02fit: \(report.decision)")
            #expect(report.decision.hasPrefix("one node"), "decision: \(report.decision)")
            let cpus = Set(try run.affinity("numa02fit-after").values)
            #expect(cpus == ["0-1"] || cpus == ["2-3"], "threads' affinity: \(cpus)")
            let node = cpus == ["0-1"] ? 0 : 1
            let after = try PagePlacementTruth(run, snapshot: "numa02fit-after")
            #expect(after.share(of: node) >= 0.95, "\(after.pagesByNode)")
        }

        @Test("2x2 numa02 pinned by its user to CPUs 1-3 (over both nodes): the pin stays")
        func numa02PinStays() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            let report = try run.rebalance("numa02spread-rebalance")
            print("ActuatorLab numa02spread 2x2: \(report.decision)")
            #expect(report.exitCode == 0, "\(run.contents("numa02spread-rebalance.json"))")
            #expect(try run.code("numa02spread-rebalance.rc") == 0)
            #expect(Set(try run.affinity("numa02spread-after").values) == ["1-3"], "the user's pin stays")
            #expect(!report.actions.contains { $0.kind == "setAffinity" }, "rebalance planned an affinity: \(report.actions)")
            #expect(!report.decision.isEmpty)
            // Whether this one "fits a node" is borderline here: the engine judges by CPU time, and
            // 4 emulated CPUs on 2 host cores measure about 2 CPUs of load for 3 busy threads. The
            // spread decision itself is checked in 4x1, where no such process fits a 1-CPU node.
        }

        @Test("4x1 numa02 with 2 threads (on CPUs 1,3) does not fit a 1-CPU node: memory interleaved over nodes 1 and 3")
        func numa02Spreads4x1() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("4x1")
            let report = try run.rebalance("numa02spread-rebalance")
            print("ActuatorLab numa02spread 4x1: \(report.decision)")
            #expect(report.decision.hasPrefix("spread"), "decision: \(report.decision)")
            // The user's pin (CPUs 1 and 3: nodes 1 and 3) stays; the memory is interleaved over those nodes.
            #expect(Set(try run.affinity("numa02spread-after").values) == ["1,3"], "the user's pin stays")
            let after = try PagePlacementTruth(run, snapshot: "numa02spread-after")
            #expect(after.share(of: 1) >= 0.3 && after.share(of: 3) >= 0.3, "memory not over nodes 1 and 3: \(after.pagesByNode)")
        }

        @Test("2x2: restore brings back the affinity rebalance replaced")
        func restoreAffinity() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            #expect(try run.code("restore.rc") == 0, "\(run.contents("restore.json")) \(run.contents("restore.err"))")
            let before = try run.affinity("numa02fit-before")
            let restored = try run.affinity("numa02fit-restored")
            #expect(try run.affinity("numa02fit-after") != before, "rebalance changed no affinity to restore")
            try #require(!restored.isEmpty)
            for (tid, cpus) in restored { #expect(before[tid] == nil || before[tid] == cpus, "thread \(tid): \(cpus)") }
            #expect(restored.values.allSatisfy { $0 == "0-3" })
            // The old affinity here is every CPU, so a reset to all CPUs would
            // look the same: the journal shows restore undid rebalance's own
            // act (a `restored` line naming that setAffinity's id).
            let pid = try #require(Int(run.trimmed("numa02fit.log").split(separator: "\n").first { $0.hasPrefix("ready pid=") }?
                .dropFirst("ready pid=".count).prefix { $0.isNumber } ?? ""))
            let journal = try LabJournal(run)
            let pins = journal.outcomes(pid: pid, kinds: ["setAffinity"]).filter { $0.status == "done" }
            try #require(!pins.isEmpty, "no setAffinity of pid \(pid) in the journal")
            #expect(journal.entries.contains { $0.phase == "restored" && pins.map(\.id).contains($0.restores ?? "") },
                    "no restored line for \(pins.map(\.id))")
        }

        @Test("2x2 shm-group: the SysV segment's pages move to node 1 and its policy shows in numa_maps")
        func shmGroup() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            let report = try run.rebalance("shm-rebalance")
            #expect(report.actions.contains { $0.kind == "setObjectPolicy" }, "\(run.contents("shm-rebalance.json"))")
            for snapshot in ["shm-after", "shm-other-after"] {
                let lines = try run.numaMapsLines(snapshot, containing: "SYSV")
                #expect(!lines.isEmpty)
                for line in lines {
                    #expect(line.contains(" prefer:1 "), "\(snapshot): \(line)")
                    let pages = nodePageCounts(line)
                    let total = pages.values.reduce(0, +)
                    #expect(total > 0 && Double(pages[1] ?? 0) >= 0.95 * Double(total), "\(snapshot): \(line)")
                }
            }
        }

        @Test("2x2: a 64 MiB MAP_SHARED|MAP_ANONYMOUS mapping shared with children moves, and keeps the policy")
        func sharedAnonymous() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            let report = try run.rebalance("anon-rebalance")
            #expect(report.actions.contains { $0.kind == "setObjectPolicy" }, "\(run.contents("anon-rebalance.json"))")
            let lines = try run.numaMapsLines("anon-after", containing: "/dev/zero")
            #expect(lines.count == 1, "\(lines)")
            for line in lines {
                #expect(line.contains(" prefer:1 "), "\(line)")
                let pages = nodePageCounts(line)
                #expect(Double(pages[1] ?? 0) >= 0.95 * Double(64 << 8), "\(line)")
            }
        }

        @Test("2x2 --dry-run: numa_maps and every thread's affinity unchanged")
        func dryRun() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            let report = try run.rebalance("dry-rebalance")
            #expect(report.pagesMoved == 0 && report.bytesMoved == 0)
            #expect(!report.actions.isEmpty && report.actions.allSatisfy { $0.status == "would-do" })
            #expect(try run.affinity("dry-before") == run.affinity("dry-after"))
            let before = try PagePlacementTruth(run, snapshot: "dry-before")
            let after = try PagePlacementTruth(run, snapshot: "dry-after")
            #expect(after.pagesByNode[1, default: 0] <= before.pagesByNode[1, default: 0] + 64, "\(before.pagesByNode) → \(after.pagesByNode)")
            #expect(after.share(of: 0) >= 0.95)
        }

        @Test("2x2: a workload exiting mid-move: exit code 4, a clean report, a consistent journal")
        func exitMidMove() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            #expect(try run.code("exiting-rebalance.rc") == 4, "\(run.contents("exiting-rebalance.json")) \(run.contents("exiting-rebalance.err"))")
            let report = try run.rebalance("exiting-rebalance")
            #expect(report.exitCode == 4)
            #expect(report.actions.contains { $0.status == "exited" })
            // Every intent has its outcome.
            var intents = Set<String>(), outcomes = Set<String>()
            for line in try run.text("journal.jsonl").split(separator: "\n") {
                let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                guard let id = entry?["id"] as? String, let phase = entry?["phase"] as? String else { continue }
                if phase == "intent" { intents.insert(id) } else if phase == "outcome" { outcomes.insert(id) }
            }
            #expect(!intents.isEmpty && intents == outcomes, "intents without outcome: \(intents.subtracting(outcomes))")
        }

        @Test("2x2 as a non-root user: another user's process names the capability; one's own works")
        func nonRootUser() async throws {
            let run = try await ScriptRuns.rebalance.completedRun("2x2")
            #expect(try run.code("nobody-other.rc") == 1)
            let message = run.contents("nobody-other.json") + run.contents("nobody-other.err")
            #expect(message.contains("CAP_SYS_PTRACE"), "\(message)")
            #expect(try run.code("nobody-own.rc") == 0, "\(run.contents("nobody-own.json")) \(run.contents("nobody-own.err"))")
            let after = try PagePlacementTruth(run, snapshot: "nobody-own-after")
            #expect(after.share(of: 1) >= 0.95, "\(after.pagesByNode)")
        }
    }
}
