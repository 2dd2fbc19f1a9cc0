// Issue 14's lab checks of real process shapes, in one 2x2 guest running
// shapes-2x2.sh with one standalone daemon: a sparse heap, a supervisor
// holding every group's segment, user pins to single CPUs and across
// nodes, a pool of lightly loaded threads, hugetlb memory. Each is judged
// by numa_maps and the threads' CPUs and affinities the script read, not
// by the daemon's own estimate.
import Foundation
import Testing

/// 4 KiB pages in 32 MiB, the sparse heap's touched part.
private let touchedPages = 8_192
/// Huge pages (2 MiB) in each hugetlb workload's 64 MiB.
private let hugePages: UInt64 = 32

extension LabTests {
    @Suite("Process shapes (issue 14)", .serialized)
    struct ShapeLabTests {
        static func run() async throws -> LabRun { try await ScriptRuns.shapes.completedRun("2x2") }

        // MARK: sparse-heap

        /// The heap's threads are pinned to node 1 by the workload itself (the
        /// user's pin), so memory must follow. Its 4 KiB pages, which its
        /// threads keep writing, move at about 0.75 MB/s under the emulator
        /// (128 MiB took 172 s; the kernel's balancer 19 s, issue 17): 32 MiB
        /// in about 45 s. Bound 75 s; the probe ran 80 s.
        @Test("sparse-heap: 4 GiB reserved, 32 MiB touched on node 0, threads on node 1: 90 % within 75 s")
        func sparseFixed() async throws {
            let run = try await Self.run()
            let heap = try Self.sparseHeap(run)
            let ready = NumaMapsCount.within(try run.text("sparse-ready-numa_maps.txt"), base: heap, bytes: 4 << 30)
            // The shape itself: the reservation is resident only where touched, on node 0.
            #expect((ready[0] ?? 0) >= UInt64(touchedPages) * 98 / 100, "heap at ready: \(ready)")
            #expect(ready.values.reduce(0, +) <= UInt64(touchedPages) * 102 / 100, "heap at ready: \(ready)")
            let probe = try run.probe("sparse")
            let entry = try run.shapeStatus("sparse").process(try Self.pid(run, "sparse-pids.txt"))
            let reached = try #require(probe.timeTo(0.9), "never 90 %: \(probe.last); status: \(entry?.summary ?? "not in status")")
            let end = NumaMapsCount.within(try run.text("sparse-end-numa_maps.txt"), base: heap, bytes: 4 << 30)
            print("shapes sparse-heap: 90 % at \(reached) s after ready; heap pages \(ready) → \(end)")
            #expect(reached <= 75)
            #expect(NumaMapsCount.share(end, 1) >= 0.9, "heap at the end: \(end)")
        }

        /// Pages moved by the daemon's count (status totals) and the kernel's
        /// (pgmigrate_success), against the misplaced pages: every eligible page
        /// on node 0 at ready (32 MiB and the runtime's own), by numa_maps.
        /// Both from the workload's ready line: before it, the workload gathers
        /// its own pages on node 0 (migrate_pages), and the kernel counts that
        /// too (2,562 pages more than the daemon's once). Before then the
        /// daemon must not have moved the heap: at most the runtime's own
        /// pages, up to 1 MiB (256 pages; the heap is 8,192). Those can be
        /// misplaced by the kernel's rules too: the workload runs on node 0
        /// from its exec, but the writable data pages of its libraries it
        /// has not yet written are page cache, wherever the process that
        /// first read them ran (20, 83 and 77 pages moved to node 0 in three
        /// runs, the act's locality before 0.71; the settling rule's floor,
        /// 4 MiB a second, calls a heap touched at 3.5 MiB a second settled).
        @Test("sparse-heap: pages moved between 0.9× the touched pages and 1.1× the misplaced ones, never the reservation")
        func sparseMoved() async throws {
            let run = try await Self.run()
            let misplaced = Int(try PagePlacementTruth(run, snapshot: "sparse-ready").pagesByNode[0] ?? 0)
            let atReady = try run.daemonStatus("sparse-ready").totals.pagesMoved
            let early = atReady - (try run.daemonStatus("sparse-start").totals.pagesMoved)
            let moved = try run.daemonStatus("sparse").totals.pagesMoved - atReady
            let kernel = try run.vmstatMigrated("sparse", from: "ready")
            print("shapes sparse-heap: \(misplaced) pages misplaced at ready, the daemon moved \(moved) "
                + "(\(String(format: "%.2f", Double(moved) / Double(max(misplaced, 1))))×), pgmigrate_success +\(kernel) "
                + "(+\(try run.vmstatMigrated("sparse")) from the launch, the workload's own gathering included)")
            #expect(early <= 256, "the daemon moved \(early) pages before the workload was ready: more than the runtime's own")
            #expect(misplaced >= touchedPages, "the heap was not placed: \(misplaced) pages on node 0")
            #expect(moved >= touchedPages * 9 / 10, "the daemon moved \(moved) pages")
            #expect(moved <= misplaced * 11 / 10, "the daemon moved \(moved) pages for \(misplaced) misplaced")
            #expect(kernel >= touchedPages * 9 / 10, "pgmigrate_success +\(kernel)")
            #expect(kernel <= misplaced * 11 / 10, "pgmigrate_success +\(kernel) for \(misplaced) misplaced")
        }

        /// What the budget and the reserve are charged: an act's `bytes`, the
        /// same number both are charged (journal intents); status exposes no
        /// budget or reserve figure, only totals and each process's last reason.
        /// A charge of the mapping's virtual size (4 GiB) is refused by node 1's
        /// reserve (2 GiB) or drains the budget: deferrals in the log.
        @Test("sparse-heap: the budget and the reserve are charged the resident bytes, not the 4 GiB reserved")
        func sparseCharged() async throws {
            let run = try await Self.run()
            let pid = try Self.pid(run, "sparse-pids.txt")
            let residentBytes = (try PagePlacementTruth(run, snapshot: "sparse-ready").pagesByNode[0] ?? 0) * 4096
            let moves = try ShapeJournal(run).intents(on: pid, kinds: ["movePages", "moveRanges"])
            let refused = run.deferrals(pid: pid).filter { $0.contains("[reserve]") || $0.contains("[budget]") }
            let entry = try run.shapeStatus("sparse").process(pid)
            let total = moves.reduce(0) { $0 + $1.bytes }
            print("shapes sparse-heap: \(moves.count) move(s) charged \(total >> 20) MiB for \(residentBytes >> 20) MiB resident; "
                + "\(refused.count) reserve/budget deferral(s); status: \(entry?.summary ?? "not in status")")
            #expect(!moves.isEmpty, "no move journalled; deferrals: \(refused.prefix(3))")
            #expect(total <= residentBytes * 11 / 10, "charged \(total) bytes for \(residentBytes) resident")
            #expect(refused.isEmpty, "deferred for the reserve or the budget: \(refused.prefix(3))")
            let reason = entry?.lastReason ?? ""
            #expect(!reason.contains("[reserve]") && !reason.contains("[budget]"), "status says: \(reason)")
        }

        // MARK: supervisor

        @Test("supervisor: each group ends on a node of its own with its segment (≥ 90 % within 90 s)")
        func supervisorGroups() async throws {
            let run = try await Self.run()
            let parent = try Self.pid(run, "supervisor-parent-pid.txt")
            // The shape: the parent maps every page of both segments (wherever
            // they are by the time it is read).
            let held = NumaMapsCount.sysv(try run.text("supervisor-parent-ready-numa_maps.txt"))
            let heldTotal: UInt64 = held.values.reduce(0, +)
            #expect(heldTotal >= 16_056, "the parent does not map both segments (2 × 8,192 pages): \(held)")
            let probe = try run.probe("supervisor")
            #expect(probe.pids.count == 4, "workers: \(probe.pids)")
            let daemonView = try Self.statusLines(run, "supervisor", probe.pids.compactMap(Int.init) + [parent])
            let reached = try #require(probe.timeTo(0.9), "never 90 % for every worker: \(probe.last)\n\(daemonView)")
            print("shapes supervisor: every worker at 90 % \(reached) s after ready")
            #expect(reached <= 90)
            // Per group: its segment's node and its workers' running threads.
            var groupNode: [String: Int] = [:]
            for worker in probe.pids {
                let group = try #require(try run.readyFields("supervisor.log", matching: "pid=\(worker) ")["group"])
                let segment = NumaMapsCount.sysv(try run.text("supervisor-\(worker)-end-numa_maps.txt"))
                let node = NumaMapsCount.share(segment, 0) >= 0.9 ? 0 : NumaMapsCount.share(segment, 1) >= 0.9 ? 1 : nil
                let home = try #require(node, "group \(group)'s segment is split: \(segment)")
                // Where its threads ran is the probe's to say: its last 3 lines put
                // every worker at ≥ 90 % with the segment on `home`, so its running
                // threads were there. One reading of each thread's last CPU at the
                // end is printed, not judged: the scheduler's load balancing caught
                // an unpinned worker the daemon had rightly left alone on the other
                // node for a tick (CPU 0 for a group on node 1, in CI). What the
                // daemon did is judged: no thread kept away from its segment's node.
                let threads = try run.tasks("supervisor-\(worker)-end").values
                print("shapes supervisor: worker \(worker) of group \(group), segment on node \(home): threads "
                    + threads.map { "\($0.tid) \($0.state) on CPU \($0.cpu), allowed \($0.allowedList)" }.joined(separator: "; "))
                #expect(threads.allSatisfy { $0.allowedCPUs.contains { Self.node(of: $0) == home } },
                        "worker \(worker) of group \(group): segment on node \(home), threads allowed \(threads.map(\.allowedList))")
                if let known = groupNode[group] { #expect(known == home, "group \(group)'s workers see its segment apart") }
                groupNode[group] = home
            }
            #expect(groupNode.count == 2 && Set(groupNode.values).count == 2, "groups' nodes: \(groupNode)")
        }

        @Test("supervisor: the parent is untouched (its affinity as it was, never pinned; no act on it)")
        func supervisorParent() async throws {
            let run = try await Self.run()
            let parent = try Self.pid(run, "supervisor-parent-pid.txt")
            let before = try run.tasks("supervisor-parent-ready"), after = try run.tasks("supervisor-parent-end")
            #expect(before.values.allSatisfy { $0.allowedList == "0-3" }, "the parent was pinned at start: \(before)")
            for (tid, task) in before {
                let later = try #require(after[tid], "parent thread \(tid) gone")
                #expect(later.allowedList == task.allowedList && later.allowedMask == task.allowedMask,
                        "parent thread \(tid): \(task.allowedList) → \(later.allowedList)")
            }
            let journal = try ShapeJournal(run)
            let acts = journal.intents(on: parent)
            let via = journal.acts.filter { $0.phase == "intent" && $0.via == parent }
            print("shapes supervisor: \(acts.count) act(s) on the parent, \(via.count) object policy act(s) through it; "
                + (try Self.statusLines(run, "supervisor", [parent])))
            #expect(acts.isEmpty, "acts on the parent: \(acts.map { "\($0.kind) \($0.id)" })")
        }

        // MARK: cpu-pin

        @Test("cpu-pin: every thread's affinity reads back byte for byte after 60 s of the daemon")
        func cpuPinAffinities() async throws {
            let run = try await Self.run()
            let a = try Self.pid(run, "cpupin-a-pid.txt"), b = try Self.pid(run, "cpupin-b-pid.txt")
            let aBefore = try run.tasks("cpupin-a-before"), bBefore = try run.tasks("cpupin-b-before")
            // The user's pins as set: A's sweepers on CPU 0 and 2, its main thread free; B on 1,3.
            #expect(Set(aBefore.values.map(\.allowedList)) == ["0", "2", "0-3"], "A's threads at start: \(aBefore.values.map(\.allowedList))")
            #expect(bBefore.values.allSatisfy { $0.allowedList == "1,3" }, "B's threads at start: \(bBefore.values.map(\.allowedList))")
            let status = try run.shapeStatus("cpupin")
            #expect(status.process(a) != nil && status.process(b) != nil, "the daemon did not track A and B")
            for (name, before) in [("a", aBefore), ("b", bBefore)] {
                let after = try run.tasks("cpupin-\(name)-after")
                for (tid, task) in before {
                    let later = try #require(after[tid], "\(name.uppercased()) thread \(tid) gone")
                    #expect(later.allowedList == task.allowedList && later.allowedMask == task.allowedMask,
                            "\(name.uppercased()) thread \(tid): \(task.allowedList) → \(later.allowedList)")
                }
            }
            print("shapes cpu-pin: " + (try Self.statusLines(run, "cpupin", [a, b])))
        }

        /// Standalone, numabalance sees A's pages per process: half its
        /// memory and half its CPU on each node, no thread's buffer told from
        /// the other's. It must not drag both buffers to one node (or swap
        /// them by guess), and its status must say why it leaves them.
        @Test("cpu-pin, standalone: A's thread-private buffers are left where they are and the status says why")
        func cpuPinMemoryLeftStandalone() async throws {
            let run = try await Self.run()
            let a = try Self.pid(run, "cpupin-a-pid.txt")
            for buffer in try Self.cpuPinBuffers(run, "cpupin-a.log") {
                let ready = NumaMapsCount.within(try run.text("cpupin-a-ready-numa_maps.txt"), base: buffer.base, bytes: 32 << 20)
                let end = NumaMapsCount.within(try run.text("cpupin-a-end-numa_maps.txt"), base: buffer.base, bytes: 32 << 20)
                print("shapes cpu-pin standalone: buffer of the thread on CPU \(buffer.cpu): \(ready) at ready → \(end) at 60 s")
                #expect(buffer.placed >= 8029, "not placed on node \(buffer.firstNode): \(buffer.placed) pages there")
                #expect(NumaMapsCount.share(end, buffer.firstNode) >= 0.98, "buffer of CPU \(buffer.cpu)'s thread moved: \(ready) → \(end)")
            }
            let moves = try ShapeJournal(run).intents(on: a, kinds: ["movePages", "moveRanges"])
            #expect(moves.isEmpty, "page moves on A: \(moves.map(\.id))")
            let entry = try #require(try run.shapeStatus("cpupin").process(a), "A not in the status")
            #expect(entry.note?.contains("hint faults") == true, "no word on why A's memory stays: \(entry.summary)")
        }

        /// Hybrid mode (kernel.numa_balancing=1): the kernel's hint faults are
        /// per thread, so each buffer follows its thread's pin; numabalance
        /// keeps every pin and leaves A's private pages to the kernel. 2 ×
        /// 32 MiB of private pages; the kernel's scanner starts 1 s after the
        /// process and migrates on the second fault from a node. Bound 60 s.
        @Test("cpu-pin, hybrid: each thread-private buffer ends on its thread's node (≥ 90 % within 60 s), every pin kept")
        func cpuPinMemoryFollowsHybrid() async throws {
            let run = try await Self.run()
            let a = try Self.pid(run, "cpupinh-pid.txt")
            let seconds = try #require(try run.seconds("cpupinh-seconds.txt"), "a buffer never 90 % on its thread's node in 90 s")
            for buffer in try Self.cpuPinBuffers(run, "cpupinh.log") {
                let home = try #require(Self.node(of: buffer.cpu))
                #expect(home != buffer.firstNode, "buffer \(buffer) starts on its thread's node: nothing to follow")
                #expect(buffer.placed >= 8029, "not placed on node \(buffer.firstNode): \(buffer.placed) pages there")
                let end = NumaMapsCount.within(try run.text("cpupinh-end-numa_maps.txt"), base: buffer.base, bytes: 32 << 20)
                print("shapes cpu-pin hybrid: buffer of the thread on CPU \(buffer.cpu) → \(end) after \(seconds) s")
                #expect(end.values.reduce(0, +) >= 8029, "the buffer's numa_maps line is missing or short: \(end)")
                #expect(NumaMapsCount.share(end, home) >= 0.9, "the buffer of CPU \(buffer.cpu)'s thread: \(end)")
            }
            #expect(seconds <= 60)
            let before = try run.tasks("cpupinh-before"), after = try run.tasks("cpupinh-after")
            #expect(Set(before.values.map(\.allowedList)) == ["0", "2", "0-3"], "A's threads at start: \(before.values.map(\.allowedList))")
            for (tid, task) in before {
                let later = try #require(after[tid], "thread \(tid) gone")
                #expect(later.allowedList == task.allowedList && later.allowedMask == task.allowedMask,
                        "thread \(tid): \(task.allowedList) → \(later.allowedList)")
            }
            #expect(try run.shapeStatus("cpupinh").process(a) != nil, "the hybrid daemon did not track A")
            let acts = try ShapeJournal(run).intents(on: a)
            #expect(acts.isEmpty, "numabalance acted on A in hybrid mode: \(acts.map { "\($0.kind) \($0.id)" })")
        }

        // MARK: many-threads

        /// 64 threads at about 1.5 % of a CPU each (1 CPU in all), pinned to
        /// node 1 by the workload; 64 MiB on node 0 (about 1 s to move). Bound 45 s;
        /// the probe ran 50 s.
        @Test("many-threads: 64 threads at a few percent each, memory on the other node: 90 % within 45 s")
        func manyThreadsFixed() async throws {
            let run = try await Self.run()
            let pid = try Self.pid(run, "manythreads-pids.txt")
            #expect(try run.tasks("manythreads-end").count >= 65)
            let probe = try run.probe("manythreads")
            let daemonView = try Self.statusLines(run, "manythreads", [pid])
            // The ruler itself: with every thread on node 1 (the tasks at the
            // end), the probe's last locality is node 1's share of the pages
            // in the end snapshot. Its numa_maps of 64 threads' mappings once
            // came back cut at 4 KiB (0.624 against 0.919 here).
            let end = try PagePlacementTruth(run, snapshot: "manythreads-end")
            let offNode1 = try run.tasks("manythreads-end").values.filter { Self.node(of: $0.cpu) != 1 }
            #expect(offNode1.isEmpty, "threads last ran off node 1, their pin: \(offNode1.map(\.tid))")
            let last = try #require(probe.lines.last?.locality["\(pid)"], "the probe has no line for pid \(pid)")
            #expect(abs(last - end.share(of: 1)) <= 0.05, "the probe says \(last), numa_maps \(end.share(of: 1))")
            let reached = try #require(probe.timeTo(0.9), "never 90 %: \(probe.last); \(daemonView)")
            print("shapes many-threads: 90 % at \(reached) s after ready, \(try run.migratedPages("manythreads")) pages moved; "
                + "node 1's share at the end \(String(format: "%.3f", end.share(of: 1))) by numa_maps, \(probe.last)")
            #expect(reached <= 45)
        }

        // MARK: hugetlb

        /// `inspect --hugetlb` samples a hugetlb mapping as a policy's
        /// `sampling.hugetlb: true` does (2 MiB pages as 512 pages each).
        @Test("hugetlb: inspect's shares count the hugetlb mapping, within ±2 pp of numa_maps")
        func hugetlbInspect() async throws {
            let run = try await Self.run()
            #expect(try run.code("hugetlb-inspect.rc") == 0, "inspect failed: \(run.contents("hugetlb-inspect.err"))")
            let report = try run.decode(InspectReport.self, from: "hugetlb-inspect.json")
            let truth = try Self.truthWithHugetlb(run, "hugetlb-inspect-before")
            let later = try Self.truthWithHugetlb(run, "hugetlb-inspect-after")
            #expect(abs(NumaMapsCount.share(truth, 0) - NumaMapsCount.share(later, 0)) <= 0.005, "moved while inspected: \(truth) → \(later)")
            #expect(NumaMapsCount.share(truth, 0) >= 0.5, "the huge pages are not most of the process: \(truth)")
            for id in [0, 1] {
                let node = try #require(report.node(id), "inspect reports no node \(id)")
                let expected = NumaMapsCount.share(truth, id)
                print("shapes hugetlb inspect: node \(id) sampled \(node.pageShare ?? -1), exact \(node.exactPageShare ?? -1), numa_maps \(expected)")
                #expect(abs((node.pageShare ?? -1) - expected) <= 0.02, "node \(id): sampled \(node.pageShare ?? -1), numa_maps \(expected)")
                #expect(abs((node.exactPageShare ?? -1) - expected) <= 0.02, "node \(id): exact \(node.exactPageShare ?? -1), numa_maps \(expected)")
            }
        }

        @Test("hugetlb: with sampling.hugetlb: true the huge pages follow the threads to node 1 (≥ 90 % within 40 s)")
        func hugetlbMoved() async throws {
            let run = try await Self.run()
            #expect(try run.code("apply-hugetlb.rc") == 0, "\(run.contents("apply-hugetlb.txt"))")
            let pools = try run.trimmed("hugetlb-pools.txt").split(separator: " ").compactMap { UInt64($0) }
            try #require(pools.count == 2 && pools[0] >= 2 * hugePages && pools[1] >= hugePages, "pools: \(pools)")
            let pid = try Self.pid(run, "hugetlb-moved-pid.txt")
            let ready = try run.nodePages("hugetlb-moved-ready-pages.txt"), end = try run.nodePages("hugetlb-moved-end-pages.txt")
            #expect(UInt64(ready.n0) == hugePages && ready.n1 == 0, "not placed on node 0: \(ready)")
            let entry = try run.shapeStatus("hugetlb").process(pid)
            print("shapes hugetlb moved: huge pages \(ready) → \(end) after \(run.contents("hugetlb-moved-seconds.txt")); \(entry?.summary ?? "not in status")")
            #expect(entry?.policy == "lab-hugetlb", "the policy did not match: \(entry?.summary ?? "not in status")")
            let seconds = try #require(try run.seconds("hugetlb-moved-seconds.txt"), "never 90 % of the huge pages on node 1")
            #expect(seconds <= 40)
            #expect(Double(end.n1) >= 0.9 * Double(end.n0 + end.n1), "\(end)")
            #expect(try ShapeJournal(run).outcomes(on: pid).contains { $0.status == "done" || $0.status == "partial" })
        }

        @Test("hugetlb: without the policy the huge pages are left where they are, the process still watched")
        func hugetlbLeftAlone() async throws {
            let run = try await Self.run()
            let pid = try Self.pid(run, "hugetlb-alone-pid.txt")
            let ready = try run.nodePages("hugetlb-alone-ready-pages.txt"), end = try run.nodePages("hugetlb-alone-end-pages.txt")
            #expect(UInt64(ready.n0) == hugePages && ready.n1 == 0, "not placed on node 0: \(ready)")
            #expect(UInt64(end.n0) == hugePages && end.n1 == 0, "its huge pages moved: \(ready) → \(end)")
            let entry = try #require(try run.shapeStatus("hugetlb").process(pid), "not in the daemon's status")
            #expect(entry.policy != "lab-hugetlb" && entry.standing == "balanced" && entry.locality != nil, "\(entry.summary)")
            let huge = try #require(try run.readyFields("hugetlb-alone.log")["huge"].flatMap { UInt64($0, radix: 16) })
            let touching = try ShapeJournal(run).intents(on: pid, kinds: ["movePages", "moveRanges"]).filter { act in
                act.kind == "movePages" || act.ranges.contains { $0.overlaps(huge..<huge + (64 << 20)) }
            }
            #expect(touching.isEmpty, "moves that take its huge pages: \(touching.map(\.id))")
        }

        // MARK: forged SysV segment

        /// A tenant's file named like a SysV segment (security review 4.5):
        /// maps showed "/SYSV0000beef (deleted)" for it, and the daemon used
        /// to plan a segment policy through a child and shmat the shmid of
        /// the file's inode number, whichever tenant's segment that was. Now
        /// its device gives it away: named in the log, never an object policy.
        @Test("a file named like a SysV segment is refused, named in the log, never given an object policy")
        func forgedSegment() async throws {
            let run = try await Self.run()
            let maps = try run.text("forged-maps.txt")
            #expect(maps.contains(" /SYSV0000beef (deleted)"), "the forgery did not look like a segment: \(maps)")
            let pids = try run.trimmed("forged-pids.txt").split(separator: ",").compactMap { Int($0) }
            #expect(pids.count == 3, "\(pids)")
            let log = try run.text("standalone-daemon.log")
            let warnings = log.split(separator: "\n").filter { $0.contains("refused a forged SysV segment") }
            #expect(warnings.contains { $0.contains("/SYSV0000beef (deleted) is on device") },
                    "no refusal naming the file in the log: \(warnings.prefix(3))")
            let policies = try ShapeJournal(run).acts.filter { act in
                act.kind == "setObjectPolicy" && pids.contains { act.via == $0 || act.on.contains($0) }
            }
            #expect(policies.isEmpty, "object policies through the forgery: \(policies.map(\.id))")
        }

        /// The suite's time budget (Tests/run under 50 minutes). Measured: 261
        /// to 389 s here since the probe reads whole numa_maps and every end
        /// status waits for an idle daemon; CI's machine ran this guest about
        /// 1.2× slower than this one. Its own timeout is 600 s.
        @Test("the shapes guest runs within 9 minutes")
        func withinBudget() async throws {
            let run = try await Self.run()
            let seconds = try run.seconds(from: "start", to: "end")
            print("shapes 2x2 guest: \(String(format: "%.0f", seconds)) s of guest time, \(String(format: "%.0f", run.wallSeconds)) s wall")
            #expect(run.wallSeconds <= 540)
        }

        // MARK: helpers

        static func pid(_ run: LabRun, _ name: String) throws -> Int {
            try #require(Int(run.trimmed(name)), "\(name): \(run.contents(name))")
        }

        /// A cpu-pin ready line's buffers: START:CPU:NODE:PAGES, PAGES on NODE
        /// by the workload's own move_pages query before its ready line.
        static func cpuPinBuffers(_ run: LabRun, _ log: String) throws -> [(base: UInt64, cpu: Int, firstNode: Int, placed: Int)] {
            let fields = try #require(try run.readyFields(log)["buffers"]).split(separator: ",")
            try #require(fields.count == 2, "\(log): buffers \(fields)")
            return try fields.map { field in
                let parts = field.split(separator: ":")
                guard parts.count == 4, let base = UInt64(parts[0], radix: 16), let cpu = Int(parts[1]),
                      let node = Int(parts[2]), let placed = Int(parts[3]) else { throw LabFailure("\(log): buffer \(field)") }
                return (base, cpu, node, placed)
            }
        }

        static func sparseHeap(_ run: LabRun) throws -> UInt64 {
            try #require(try run.readyFields("sparse.log")["heap"].flatMap { UInt64($0, radix: 16) }, "no heap= in sparse.log")
        }

        /// The 2x2 guest's node of a CPU.
        static func node(of cpu: Int) -> Int? {
            ExpectedTopology.all["2x2"]?.cpus.firstIndex { $0.contains(cpu) }
        }

        /// Eligible pages (PagePlacementTruth) plus the hugetlb mappings', per node.
        static func truthWithHugetlb(_ run: LabRun, _ snapshot: String) throws -> [Int: UInt64] {
            var pages = try PagePlacementTruth(run, snapshot: snapshot).pagesByNode
            for (node, count) in NumaMapsCount.hugetlb(try run.text("\(snapshot)-numa_maps.txt")) { pages[node, default: 0] += count }
            return pages
        }

        /// The daemon's view of these processes, for a failure message.
        static func statusLines(_ run: LabRun, _ name: String, _ pids: [Int]) throws -> String {
            let status = try run.shapeStatus(name)
            return pids.map { status.process($0)?.summary ?? "pid \($0) not in status" }.joined(separator: "\n")
        }
    }
}
