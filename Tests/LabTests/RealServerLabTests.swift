// Issue 14's lab checks with real software: a real PostgreSQL 15 and a real
// JVM (OpenJDK 17), run as non-root users in one 2x2 guest under the
// standalone daemon (real-servers-2x2.sh), and PostgreSQL again with no
// balancing as the control. Every check reads numa_maps and the threads'
// CPUs as the script sampled them (ServerSamples, the probe, PagePlacementTruth),
// not the daemon's own report; the daemon's status and journal only say what
// it did and why.
import Foundation
import Testing

/// The real-server guest, booted once for every check, after compiling the
/// JVM's program into the build folder (the guest sees the host's root
/// read-only, and its own /tmp is a tmpfs).
actor RealServerRuns {
    static let shared = RealServerRuns()
    private var task: Task<LabRun, Error>?

    func completedRun() async throws -> LabRun {
        try LabGuest.requireAvailable()
        let task = self.task ?? Task {
            try Self.checkSoftware()
            try Self.compileJava()
            // The release daemon: this guest weighs its overhead against no daemon.
            return try await LabGuest.boot(topology: "2x2", script: "real-servers-2x2.sh",
                                           outName: "real-servers-2x2", timeoutSeconds: 900,
                                           bin: try LabGuest.releaseBinFolder())
        }
        self.task = task
        let run = try await task.value
        guard run.exitCode == 0 else { throw LabFailure("the 2x2 real-server guest failed\n\(run.summary)") }
        return run
    }

    static let javaSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Java/SparseHeap.java")
    static let javaClasses = LabGuest.binFolder.appendingPathComponent("lab-java")

    /// Tests/run installs both (Debian's postgresql and openjdk-17-jdk-headless).
    static func checkSoftware() throws {
        for path in ["/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/pgbench",
                     "/usr/lib/postgresql/15/lib/pg_prewarm.so", "/usr/bin/java", "/usr/bin/javac", "/usr/bin/setpriv"]
        where !FileManager.default.isExecutableFile(atPath: path) && !FileManager.default.fileExists(atPath: path) {
            throw LabFailure("\(path) is missing: Tests/run installs postgresql and openjdk-17-jdk-headless")
        }
    }

    static func compileJava() throws {
        try FileManager.default.createDirectory(at: javaClasses, withIntermediateDirectories: true)
        let javac = Process()
        javac.executableURL = URL(fileURLWithPath: "/usr/bin/javac")
        javac.arguments = ["-d", javaClasses.path, javaSource.path]
        let errors = Pipe()
        javac.standardError = errors
        javac.standardOutput = errors
        try javac.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        javac.waitUntilExit()
        guard javac.terminationStatus == 0 else { throw LabFailure("javac \(javaSource.path) failed:\n\(message)") }
    }
}

extension LabTests {
    @Suite("Real servers (issue 14)", .serialized)
    struct RealServerLabTests {
        /// Clients that fit one node (2 backends, 2 pgbench threads on a
        /// 2-CPU node): the active backends and the buffers they use end on
        /// one node, every backend ≥ 0.9 local, within 45 s of pgbench's start
        /// and to the end of its 60 s. The bound: the daemon rounds every
        /// 1–10 s; pinning the backends to node 0 moves nothing, and moving
        /// the buffers instead (about 45 MiB of shared pages, which their
        /// readers keep mapped) takes under 10 s at the emulator's ~10 MB/s.
        @Test("PostgreSQL, clients that fit a node: backends and buffers ≥ 0.9 local within 45 s")
        func postgresFits() async throws {
            let run = try await RealServerRuns.shared.completedRun()
            let phase = try ServerPhase(run, "pg1")
            print(phase.timeline)
            let time = phase.timeToOneNode(backends: 2, target: 0.9)
            let reached = try #require(time,
                                       "never ≥ 0.9 on one node to the end of the run\n\(phase.timeline)\n\(run.daemonTail)")
            print("PostgreSQL 2x2, 2 clients: backends and buffers ≥ 0.9 on one node \(fmt(reached)) s after pgbench's start")
            #expect(reached <= 45, "≥ 0.9 only \(fmt(reached)) s after the start")
        }

        /// At most one move of what is there: the shared memory (its resident
        /// pages by fincore after the run, or the most any server process
        /// mapped if more: the buffers and the shared structures beside them)
        /// and the active backends' own memory,
        /// by the daemon's count and by the kernel's (pgmigrate_success).
        @Test("PostgreSQL, clients that fit a node: pages moved ≤ 1.2× the shared memory and backends")
        func postgresMoves() async throws {
            let run = try await RealServerRuns.shared.completedRun()
            let phase = try ServerPhase(run, "pg1")
            // The object's resident pages (fincore): a move of it moves pages
            // no process mapped too (17,203 pages moved where the backends
            // mapped 12,790, once).
            let mapped = phase.samples.joined().map(\.shmPages).max() ?? 0
            let resident = try #require(Int(run.trimmed("pg1-shared-resident.txt")), "no fincore count")
            let shared = max(mapped, resident)
            let withBackends = phase.withBackends.last ?? []
            let own = withBackends.filter { phase.role(of: $0) == .backend }.reduce(0) { $0 + $1.anonPages }
            let moved = try run.migratedPages("pg1"), kernel = try run.vmstatMigrated("pg1")
            print("PostgreSQL 2x2, 2 clients: \(moved) pages moved by the daemon (pgmigrate_success +\(kernel)); "
                + "\(resident) pages of shared memory resident, \(mapped) mapped by a server process "
                + "(\(try run.prewarmedBlocks("pg") * 2) of them prewarmed buffers), "
                + "\(own) of the backends' own")
            try #require(mapped > 0 && resident > 0, "no shared memory sampled (\(mapped)) or resident (\(resident))")
            #expect(moved <= (shared + own) * 12 / 10, "moved \(moved) pages for \(shared + own) resident")
            #expect(kernel <= (shared + own) * 12 / 10, "the kernel migrated \(kernel) pages for \(shared + own) resident")
        }

        /// The postmaster and the idle server processes map the buffers but
        /// hardly touch them: numabalance must neither pin them nor act on
        /// them (issue 14, point 2). Their affinity stays every CPU (as
        /// unpinned) in every sample of both runs; the journal names none.
        @Test("PostgreSQL: the postmaster and the idle server processes are never pinned or acted on")
        func postgresIdleUntouched() async throws {
            let run = try await RealServerRuns.shared.completedRun()
            let all = try run.nodes().allCPUs
            var idle: [Int: String] = [:]
            var pinned: [String] = []
            for name in try run.serverPhases(["pg1", "pgwide"]) {
                let phase = try ServerPhase(run, name)
                for sample in phase.samples.joined() {
                    guard let role = phase.idleRole(of: sample) else { continue }
                    idle[sample.pid] = role
                    if CPUList.parse(sample.allowed) != all { pinned.append("\(name) t=\(fmt(sample.t - phase.start)) \(role) pid \(sample.pid): \(sample.allowed)") }
                }
            }
            let roles = Set(idle.values)
            #expect(roles == Set(ServerPhase.idleRoles + ["postmaster"]), "idle processes sampled: \(roles.sorted())")
            #expect(pinned.isEmpty, "pinned by the daemon:\n\(pinned.prefix(20).joined(separator: "\n"))")
            let journal = try run.text("journal.jsonl")
            if journal.isEmpty {
                // No journal: the daemon never acted at all, on anything.
                struct Counted: Decodable { struct Totals: Decodable { var actions: Int }; var totals: Totals }
                #expect(try run.decode(Counted.self, from: "end-status.json").totals.actions == 0,
                        "actions counted, but no journal came back")
            } else {
                let entries = try LabJournal(run)
                let named = idle.keys.sorted().flatMap { pid in entries.mentions(pid: pid).map { "\(idle[pid] ?? "?") \(pid): \($0.phase) \($0.kind ?? "?") \($0.status ?? "")" } }
                #expect(named.isEmpty, "the journal names idle server processes:\n\(named.prefix(20).joined(separator: "\n"))")
            }
        }

        /// pgbench -S's tps under the daemon against the same run with no
        /// balancing (the server restarted, the buffers prewarmed on node 0,
        /// unpinned), in the same guest. Under the emulator remote memory is
        /// no slower, so balancing cannot win here; it must not cost more
        /// than the noise of two such runs, which is up to 15 % on this
        /// machine (a shared 2-core host running the emulator). The daemon is
        /// the release build, as shipped: the debug one took 26 CPU seconds
        /// of the 60 (3.9 released), which the guest's vCPUs take from
        /// pgbench on the host's 2 cores (ratios 0.71–0.91 in 5 runs; 1.01
        /// with the release build).
        ///
        /// Judged on the paired runs: 6 pairs of 10 s, the daemon running
        /// then stopped, alternating on one server; the median of the
        /// pairs' ratios (one window the host stalled, 728 against 954 tps
        /// in a pair, does not decide). Two 60 s runs minutes apart (pg1
        /// against pgbase, still printed) gave ratios from 0.80 to 1.69 for
        /// the same code: the host's drift, not the daemon.
        @Test("PostgreSQL: pgbench -S tps with the daemon ≥ 0.85× with no balancing")
        func postgresThroughput() async throws {
            let run = try await RealServerRuns.shared.completedRun()
            let balanced = try run.pgbenchTPS("pg1"), unbalanced = try run.pgbenchTPS("pgbase")
            print("PostgreSQL 2x2, 2 clients: \(fmt(balanced)) tps with the daemon, \(fmt(unbalanced)) tps with no balancing: "
                + "ratio \(String(format: "%.3f", balanced / unbalanced)) (60 s runs, minutes apart)")
            print("with no balancing:\n" + (try ServerPhase(run, "pgbase")).timeline)
            let on = try (1...6).map { try run.pgbenchTPS("pgpair-on-\($0)") }
            let off = try (1...6).map { try run.pgbenchTPS("pgpair-off-\($0)") }
            let ratios = zip(on, off).map { $0 / $1 }.sorted()
            let median = (ratios[2] + ratios[3]) / 2
            print("PostgreSQL 2x2, 2 clients, paired 10 s runs: daemon running \(on.map(fmt)) tps, stopped \(off.map(fmt)) tps: "
                + "median ratio \(String(format: "%.3f", median)), sums \(String(format: "%.3f", on.reduce(0, +) / off.reduce(0, +)))")
            #expect(median >= 0.85, "running \(on) tps, stopped \(off) tps")
        }

        /// More clients than a node has CPUs (4 backends and 4 pgbench
        /// threads on 2x2), judged over pgbench's last 20 s, up to the last
        /// sample with its connections (at least 3 samples: under this load
        /// the sampler gets round every 3–6 s; its clients are gone by the
        /// samples after their last query, which once failed the count): no
        /// node holds more busy backends (≥ 25 % of a CPU) pinned inside it than it has
        /// CPUs; and every node the backends run on holds at least 0.6 of an
        /// even share of the buffers they use (0.3 each on two nodes).
        @Test("PostgreSQL, more clients than a node's CPUs: no node overfilled, buffers spread over the nodes in use")
        func postgresWide() async throws {
            let run = try await RealServerRuns.shared.completedRun()
            let phase = try ServerPhase(run, "pgwide")
            let nodes = try run.nodes()
            print(phase.timeline)
            let window = phase.lastSeconds(20)
            try #require(window.count >= 3, "only \(window.count) samples in the last 20 s")
            var overfull: [String] = []
            var ranOn: [Int: Int] = [:]
            for group in window {
                let backends = group.filter { phase.role(of: $0) == .backend }
                #expect(backends.count == 4, "\(backends.count) backends at t=\(fmt((group.first?.t ?? 0) - phase.start))")
                var busyPinned: [Int: Int] = [:]
                for sample in backends {
                    if let node = nodes.node(ofCPU: sample.cpu) { ranOn[node, default: 0] += 1 }
                    guard let busy = phase.cpuShare(of: sample), busy >= 0.25,
                          let node = nodes.singleNode(of: CPUList.parse(sample.allowed)) else { continue }
                    busyPinned[node, default: 0] += 1
                }
                for (node, count) in busyPinned where count > nodes.cpus[node]?.count ?? 0 {
                    overfull.append("t=\(fmt((group.first?.t ?? 0) - phase.start)): \(count) busy backends pinned to node \(node)")
                }
            }
            #expect(overfull.isEmpty, "\(overfull.prefix(10).joined(separator: "\n"))")
            let total = ranOn.values.reduce(0, +)
            let inUse = ranOn.filter { Double($0.value) >= 0.25 * Double(total) }.keys.sorted()
            let buffers = phase.bufferShares(window.last { $0.contains { phase.role(of: $0) == .backend } } ?? [])
            print("PostgreSQL 2x2, 4 clients: backends ran on nodes \(inUse) (samples per node \(ranOn)); buffers per node "
                + "\(buffers.sorted { $0.key < $1.key }.map { "\($0.key): \(String(format: "%.2f", $0.value))" }); "
                + "\(try run.migratedPages("pgwide")) pages moved by the daemon (pgmigrate_success +\(try run.vmstatMigrated("pgwide")))")
            try #require(!inUse.isEmpty, "no backend sampled in the window")
            for node in inUse {
                #expect((buffers[node] ?? 0) >= 0.6 / Double(inUse.count),
                        "node \(node) (in use) holds \(buffers[node] ?? 0) of the buffers\n\(run.daemonTail)")
            }
        }

        /// The JVM, first touched on node 0, then pinned by its user to
        /// node 1 (every thread, taskset -a): the pin is the user's and stays;
        /// the memory follows it, ≥ 0.9 local within 60 s of the pin (about
        /// 230 MiB of private pages, moved at 60–140 MB/s under the emulator
        /// in 2–4 s; the rest is the daemon's rounds). Pages moved: at least
        /// 0.8× the misplaced (on node 0 at the pin, by numa_maps) and at
        /// most 1.2× the resident, not the 3 GiB heap reserved and committed.
        @Test("JVM: a 3 GiB heap with 192 MiB touched follows its user's pin; pages moved ≈ the resident, not the reservation")
        func jvmFollowsPin() async throws {
            let run = try await RealServerRuns.shared.completedRun()
            let before = try PagePlacementTruth(run, snapshot: "jvm-before")
            let after = try PagePlacementTruth(run, snapshot: "jvm-after")
            let reserved = try run.largestWritableMappingPages("jvm-before")
            let misplaced = Int(before.pagesByNode[0] ?? 0), resident = Int(before.totalPages)
            let moved = try run.migratedPages("jvm"), kernel = try run.vmstatMigrated("jvm")
            let probe = try run.probe("jvm")
            let startup = try run.seconds(from: "jvm-start", to: "jvm-ready")
            let reached = probe.timeTo(0.9)
            print("JVM 2x2: ready \(fmt(startup)) s after launch; \(reserved) pages in its largest mapping (the heap), "
                + "\(resident) resident at the pin, \(misplaced) of them on node 0; "
                + (reached.map { "≥ 0.9 local \($0) s after the pin" } ?? "never ≥ 0.9 (\(probe.last))")
                + "; \(moved) pages moved by the daemon (\(String(format: "%.2f", Double(moved) / Double(max(misplaced, 1))))× the misplaced, "
                + "pgmigrate_success +\(kernel)); node 1's share after: \(String(format: "%.3f", after.share(of: 1)))")
            // The shape is what the test claims: a heap committed far beyond what is touched.
            #expect(reserved >= 3 << 18, "the largest writable mapping is \(reserved) pages, not the 3 GiB heap")
            #expect(misplaced >= 192 << 8, "only \(misplaced) pages on node 0 at the pin")
            let status = try run.daemonStatus("jvm")
            let entry = status.processes.first { "\($0.pid)" == probe.pids.first }
            let why = "daemon: \(entry.map { "\($0.standing) \($0.lastReason ?? "") \($0.note ?? "")" } ?? "not in status")\n\(run.daemonTail)"
            let time = try #require(reached, "the JVM never reached 0.9 in 90 s: \(probe.last)\n\(why)")
            #expect(time <= 60)
            #expect(after.share(of: 1) >= 0.9, "node 1 holds \(after.share(of: 1)) of the JVM's pages after\n\(why)")
            #expect(moved >= misplaced * 8 / 10, "moved \(moved) pages for \(misplaced) misplaced\n\(why)")
            #expect(moved <= resident * 12 / 10, "moved \(moved) pages for \(resident) resident (\(reserved) reserved)")
            #expect(kernel >= misplaced * 8 / 10, "the kernel counted \(kernel) migrations for \(misplaced) misplaced")
        }

        /// The user's pin is byte-for-byte what the user set, on every
        /// thread, after the daemon ran (issue 14, point 3).
        @Test("JVM: every thread keeps the user's pin to node 1")
        func jvmPinKept() async throws {
            let run = try await RealServerRuns.shared.completedRun()
            let node1 = try run.nodes().cpus[1].map { CPUList.format($0) } ?? "?"
            let pinned = try run.affinity("jvm-pinned"), after = try run.affinity("jvm-after")
            try #require(!pinned.isEmpty && pinned.values.allSatisfy { $0 == node1 }, "the user's pin did not take: \(pinned)")
            // Threads started since (the JVM's compiler threads, say) inherit it.
            try #require(!after.isEmpty, "no threads read after the run")
            let changed = after.filter { $0.value != node1 }
            #expect(changed.isEmpty, "threads not on the user's pin \(node1): \(changed)")
        }
    }
}

private func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
