// Issue 7's lab checks: `numabalance run` on real 2x2 and 4x1 kernels. One
// guest per topology runs daemon-<topology>.sh; the tests read the probe's
// lines (true locality from numa_maps, pgmigrate_success), the daemon's
// status JSON and log, and the files the script kept.
import Foundation
import Testing

/// One line of `numa-workload probe`.
struct ProbeLine: Decodable {
    var t: Double
    var migrated: Int
    var locality: [String: Double]
    var overfull: Bool
}

/// A scenario's probe run.
struct Probe {
    var lines: [ProbeLine]
    var pids: [String]

    /// Seconds until every process (or their mean) was at `target`.
    /// When the target was reached for good: the first line of the last run
    /// of lines at the target (a passing touch of it, such as two processes'
    /// threads sharing the CPU of the node holding their memory, does not count).
    func timeTo(_ target: Double, mean: Bool = false) -> Double? {
        func atTarget(_ line: ProbeLine) -> Bool {
            guard line.locality.count == pids.count, !pids.isEmpty else { return false }
            let values = pids.compactMap { line.locality[$0] }
            return mean ? values.reduce(0, +) / Double(values.count) >= target : values.allSatisfy { $0 >= target }
        }
        var reached: Double?
        for line in lines.reversed() {
            guard atTarget(line) else { break }
            reached = line.t
        }
        return reached
    }

    var migratedPages: Int { lines.last?.migrated ?? 0 }
    var everOverfull: Bool { lines.contains(where: \.overfull) }
    var last: String { lines.last.map { "t=\($0.t) locality=\($0.locality) migrated=\($0.migrated)" } ?? "(no lines)" }
}

/// `numabalance status --json`, the keys the tests read.
struct DaemonStatusJSON: Decodable {
    struct Process: Decodable {
        var pid: Int32
        var comm: String
        var locality: Double?
        var note: String?
        var lastReason: String?
    }

    struct Totals: Decodable { var pagesMoved: Int }

    var mode: String
    var policyGeneration: UInt64
    var totals: Totals
    var processes: [Process]
}

extension LabRun {
    func probe(_ name: String) throws -> Probe {
        let lines = try text("\(name)-probe.jsonl").split(separator: "\n").map { line in
            do { return try JSONDecoder().decode(ProbeLine.self, from: Data(line.utf8)) } catch {
                throw LabFailure("\(name)-probe.jsonl: not a probe line: \(line)")
            }
        }
        let pids = try text("\(name)-pids.txt").trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: ",").map(String.init)
        return Probe(lines: lines, pids: pids)
    }

    func daemonStatus(_ name: String) throws -> DaemonStatusJSON {
        try decode(DaemonStatusJSON.self, from: "\(name)-status.json")
    }

    func trimmed(_ name: String) throws -> String { try text(name).trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Pages the daemon moved from a scenario's launch to the end of its
    /// probe (it may act while the workload is still setting up), by its
    /// own count: each page move_pages or migrate_pages reported moved.
    /// (/proc/vmstat's pgmigrate_success also counts compaction's moves.)
    func migratedPages(_ name: String) throws -> Int {
        try daemonStatus(name).totals.pagesMoved - daemonStatus("\(name)-start").totals.pagesMoved
    }

    /// pgmigrate_success over the same span: every migration in the guest.
    func vmstatMigrated(_ name: String) throws -> Int {
        (Int(try trimmed("\(name)-migrated-end.txt")) ?? 0) - (Int(try trimmed("\(name)-migrated-start.txt")) ?? 0)
    }

    /// Seconds between two of the script's marks (guest uptime).
    func seconds(from first: String, to second: String) throws -> Double {
        var marks: [String: Double] = [:]
        for line in try text("marks.txt").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let t = Double(parts[1]) { marks[String(parts[0])] = t }
        }
        guard let start = marks[first], let end = marks[second] else { throw LabFailure("no \(first) or \(second) mark") }
        return end - start
    }

    /// Seconds from a scenario's launch to its ready line.
    func setupSeconds(_ name: String) throws -> Double { try seconds(from: "\(name)-start", to: "\(name)-ready") }
}

/// 64 MiB in 4 KiB pages: the unit every scenario's misplaced memory is counted in.
private let pages64MiB = 16_384

extension LabTests {
    @Suite("Daemon (issue 7)", .serialized)
    struct DaemonLabTests {
        /// Each process (or group) fits one node: ≥ 90 % locality within the
        /// stated time, ≤ 1.1× the misplaced pages moved, never a node with
        /// more busy pinned threads than CPUs.
        /// Misplaced pages: one process's 64 MiB (misplaced, numa01, thread-alloc), one
        /// group's 32 MiB segment (shm-group: 2 groups × 32 MiB, 64 MiB in all).
        @Test("standalone 2x2: misplaced, numa01, numa01-thread-alloc, shm-group reach 90 %",
              arguments: [("misplaced", 60.0, pages64MiB), ("numa01", 90.0, pages64MiB),
                          ("threadalloc", 90.0, pages64MiB), ("shm", 120.0, pages64MiB / 2)])
        func standaloneFits(scenario: String, bound: Double, misplaced: Int) async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let probe = try run.probe(scenario)
            let log = run.contents("standalone-daemon.log").suffix(3000)
            let reached = try #require(probe.timeTo(0.9), "\(scenario) never reached 90 %: \(probe.last)\n\(log)")
            let moved = try run.migratedPages(scenario)
            let setup = try run.setupSeconds(scenario)
            print("daemon 2x2 \(scenario): 90 % at \(reached) s after ready (\(String(format: "%.1f", reached + setup)) s after "
                + "launch), \(moved) pages moved (\(String(format: "%.2f", Double(moved) / Double(misplaced)))× the misplaced; "
                + "pgmigrate_success +\(try run.vmstatMigrated(scenario)))")
            #expect(reached <= bound)
            #expect(moved <= misplaced * 11 / 10, "moved \(moved) pages for \(misplaced) misplaced")
            #expect(!probe.everOverfull, "a node ran more busy pinned threads than CPUs")
        }

        @Test("standalone 2x2: numa02's result and the reason for the gap are in status")
        func numa02Gap() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let status = try run.daemonStatus("numa02")
            #expect(status.mode == "standalone")
            let pid = try run.trimmed("numa02-pids.txt")
            let entry = try #require(status.processes.first { "\($0.pid)" == pid }, "numa02 not in status")
            #expect(entry.locality != nil)
            let explained = (entry.note ?? "") + (entry.lastReason ?? "")
            #expect(explained.contains("per process, not per thread") || (entry.locality ?? 0) >= 0.9,
                    "no reason for the gap: \(entry)")
        }

        @Test("the daemon keeps only the capabilities it needs, with no_new_privs, on every thread")
        func capabilities() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let caps = try run.text("standalone-caps.txt")
            // CAP_IPC_OWNER 15, CAP_SYS_PTRACE 19, CAP_SYS_NICE 23, CAP_CHECKPOINT_RESTORE 40.
            let kept = String(format: "%016llx", (1 << 15) | (1 << 19) | (1 << 23) | (1 << 40))
            #expect(caps.contains("CapEff:\t\(kept)"), "\(caps)")
            #expect(caps.contains("CapBnd:\t\(kept)"), "\(caps)")
            #expect(caps.contains("NoNewPrivs:\t1"), "\(caps)")
            let tasks = try run.text("standalone-task-caps.txt").split(separator: "\n")
            #expect(!tasks.isEmpty && tasks.allSatisfy { $0.hasSuffix(kept) }, "threads: \(tasks)")
        }

        @Test("SIGHUP with a broken config: still running, old settings in force, error with file:line:column")
        func brokenReload() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("hup-alive.rc") == 0)
            #expect(try run.daemonStatus("hup-after").policyGeneration == run.daemonStatus("hup-before").policyGeneration)
            let log = try run.text("standalone-daemon.log")
            #expect(log.contains("reload refused"), "\(log.suffix(2000))")
            #expect(log.contains("numabalance.yaml:3:3"), "no file:line:column in the log: \(log.suffix(2000))")
        }

        @Test("churn: 200 processes come and go; no crash, RSS under 100 MiB and not growing")
        func churn() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("churn-alive.rc") == 0)
            let kib = try run.text("churn-rss.txt").split(separator: "\n").compactMap { line in
                line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0.filter(\.isNumber)) }
            }
            try #require(kib.count == 3, "RSS readings: \(kib)")
            print("daemon RSS during churn: \(kib.map { "\($0 / 1024) MiB" })")
            #expect(kib.allSatisfy { $0 < 100 * 1024 })
            #expect(kib[2] - kib[1] < 8 * 1024, "RSS grew from \(kib[1]) to \(kib[2]) KiB in the second half")
            let status = try run.daemonStatus("churn")
            #expect(status.processes.count < 100, "exited processes still tracked: \(status.processes.count)")
        }

        @Test("SIGTERM during a large move: exit 0 within 5 s, the move stopped between batches")
        func sigtermMidMove() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("slowmove-daemon.rc") == 0)
            let seconds = try #require(Double(run.trimmed("slowmove-daemon-stop-seconds.txt")))
            print("daemon stop during a move: \(seconds) s")
            #expect(seconds <= 5)
            let atStop = try #require(Int(run.trimmed("slowmove-migrated-at-stop.txt")))
            let total = try #require(Int(run.trimmed("slowmove-migrated-total.txt")))
            #expect(atStop > 0, "no move was in flight when SIGTERM came")
            #expect(total < 4 * pages64MiB, "the whole 256 MiB moved: the stop came too late to test anything")
        }

        @Test("kill -9, then a restart: the disabled kernel balancer is restored, the journal is read")
        func crashRestart() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.trimmed("crash-sysctl-running.txt") == "0")
            #expect(try run.trimmed("crash-sysctl-killed.txt") == "0")
            #expect(try run.trimmed("restart-sysctl.txt") == "1")
            let log = try run.text("restart-daemon.log")
            #expect(log.contains("restored kernel.numa_balancing=1"), "\(log.prefix(3000))")
            let journalLine = try #require(log.split(separator: "\n").first { $0.contains("journal read") })
            #expect(!journalLine.contains("entries=0"), "\(journalLine)")
            #expect(!journalLine.contains("coolingDown=0"), "nothing cools down after the restart: \(journalLine)")
        }

        /// In hybrid mode the engine's CPU rows are the kernel's CPU faults, a
        /// decayed history: "accesses from the node the group runs on" once read
        /// them and found none, and the remote group's segment was never moved.
        /// Accesses now come from the threads' CPU time this round.
        @Test("hybrid 2x2: the shm group the kernel leaves remote reaches 90 %")
        func hybridShm() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let probe = try run.probe("hybridshm")
            print("daemon hybrid 2x2 shm-group: \(probe.last)")
            let reached = try #require(probe.timeTo(0.9), "never reached 90 %: \(probe.last)")
            #expect(reached <= 90)
        }

        @Test("hybrid 2x2: numa02's pages are left to the kernel")
        func hybridNuma02() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let pid = try run.trimmed("hybridnuma02-pids.txt")
            let journal = run.contents("journal.jsonl").split(separator: "\n")
            let moves = journal.filter { line in
                line.contains("\"phase\":\"outcome\"") && line.contains("\"pid\":\(pid),")
                    && (line.contains("\"kind\":\"moveRanges\"") || line.contains("\"kind\":\"movePages\""))
            }
            #expect(moves.isEmpty, "the daemon moved numa02's pages in hybrid mode: \(moves.prefix(3))")
        }

        /// No process fits one node: the best possible locality (0.50), no node overfull.
        @Test("standalone 4x1: numa01 and shm-group reach 0.50, misplaced 90 %",
              arguments: [("misplaced", 0.9, false), ("numa01", 0.47, true), ("shm", 0.47, true)])
        func fourByOne(scenario: String, target: Double, mean: Bool) async throws {
            let run = try await ScriptRuns.daemon.completedRun("4x1")
            let probe = try run.probe(scenario)
            let log = run.contents("standalone-daemon.log").suffix(3000)
            // numa01 and shm: one process (group) over nodes 0-1 moves half of its memory
            // (64 MiB a process, 32 MiB a group's segment), the other all of it.
            let misplaced = switch scenario {
            case "misplaced": pages64MiB
            case "numa01": pages64MiB * 3 / 2
            default: pages64MiB / 2 * 3 / 2
            }
            let moved = try run.migratedPages(scenario)
            print("daemon 4x1 \(scenario): \(probe.timeTo(target, mean: mean).map { "\(target) at \($0) s" } ?? "never \(target)")"
                + " after ready, \(moved) pages moved (\(String(format: "%.2f", Double(moved) / Double(misplaced)))× the misplaced)")
            // Where no process or group fits a node, each gets the two nodes with
            // room and its memory is spread evenly over them (issue 7: numa01 once
            // moved 2.70× the misplaced pages here and overfilled a node).
            let reached = try #require(probe.timeTo(target, mean: mean),
                                       "\(scenario) never reached \(target): \(probe.last)\n\(log)")
            #expect(reached <= 90)
            #expect(moved <= misplaced * 11 / 10)
            // misplaced is pinned by its user (numactl) to a one-CPU node: its main
            // thread, waking once a second to print, shares that CPU with the
            // sweeping one. The daemon places numa01 and shm-group.
            if scenario != "misplaced" {
                #expect(!probe.everOverfull, "a node ran more busy pinned threads than CPUs")
            }
        }
    }
}
