// Issue 8's lab checks, run in the 2x2 daemon guest (daemon-policies.sh):
// `policy plan` changes nothing; `policy apply` of pin, ignore, interleave,
// preferred and a shared segment's interleave takes effect in the running
// daemon.
import Foundation
import Testing

extension LabRun {
    /// "N0 N1" pages written by the script's node_pages.
    func nodePages(_ name: String) throws -> (n0: Int, n1: Int) {
        let parts = try trimmed(name).split(separator: " ").compactMap { Int($0) }
        guard parts.count == 2 else { throw LabFailure("\(name): not two page counts") }
        return (parts[0], parts[1])
    }

    /// Seconds in a wait_for file; nil for "never".
    func seconds(_ name: String) throws -> Double? { Double(try trimmed(name)) }
}

extension LabTests {
    @Suite("Policies (issue 8)", .serialized)
    struct PolicyLabTests {
        @Test("policy plan lists the matching workload and its actions, and changes nothing")
        func planChangesNothing() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("plan.rc") == 0)
            let plan = try run.text("plan.txt")
            let pid = try run.trimmed("pin-pid.txt")
            #expect(plan.contains("policy lab-20-pin"), "\(plan)")
            #expect(plan.contains("pid \(pid)"), "\(plan)")
            #expect(plan.split(separator: "\n").contains { $0.contains("pid \(pid)") && $0.contains("set affinity to node 1 CPUs 2-3") },
                    "no action listed for pid \(pid):\n\(plan)")
            // Taken 3 s after plan returned: a policy it wrongly installed would have acted by then.
            let affinityBefore = try run.affinity("plan-before")
            try #require(!affinityBefore.isEmpty, "the workload's threads were not read")
            #expect(try run.affinity("plan-after") == affinityBefore)
            let before = try run.nodePages("plan-before-pages.txt"), after = try run.nodePages("plan-after-pages.txt")
            try #require(before.n0 + before.n1 > 0, "no pages read for the workload")
            #expect(abs(after.n1 - before.n1) < 64, "pages moved to node 1 during plan: \(before) → \(after)")
            #expect(try run.daemonStatus("plan-after").policyGeneration == run.daemonStatus("plan-before").policyGeneration,
                    "policy plan changed the daemon's policies")
        }

        @Test("policy apply of a pin policy: the daemon pins the workload to node 1 at once, numa_maps follows")
        func applyPin() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-20-pin.rc") == 0, "\(run.contents("apply-20-pin.txt"))")
            #expect(try run.text("apply-20-pin.txt").contains("policy generation "), "\(run.contents("apply-20-pin.txt"))")
            #expect(try run.text("apply-20-pin.txt").contains(" active: "), "\(run.contents("apply-20-pin.txt"))")
            // At once: the reload re-evaluates it in the next round. The pages
            // then follow at the emulated machine's copying speed.
            let threads = try #require(try run.seconds("pin-threads-seconds.txt"),
                                       "never pinned: \(run.contents("pin-after-affinity.txt"))")
            let pages = try #require(try run.seconds("pin-seconds.txt"), "its pages never followed")
            print("policy pin: threads on node 1 \(threads) s after `policy apply`, 95 % of pages \(pages) s")
            #expect(threads <= 15)
            #expect(try run.affinity("pin-after").values.allSatisfy { $0 == "2-3" })
            let after = try run.nodePages("pin-after-pages.txt")
            #expect(Double(after.n1) >= 0.95 * Double(after.n0 + after.n1), "\(after)")
        }

        @Test("an ignore policy: that workload is left alone while another is fixed")
        func ignore() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-30-ignore.rc") == 0, "\(run.contents("apply-30-ignore.txt"))")
            let fixed = try run.probe("notignored")
            #expect(fixed.timeTo(0.9) != nil, "the other workload was not fixed: \(fixed.last)")
            // The ignored workload was alive, read and misplaced all along.
            let pages = try run.nodePages("ignored-after-pages.txt")
            try #require(pages.n0 + pages.n1 > 0, "the ignored workload was gone or unread")
            #expect(Double(pages.n0) >= 0.95 * Double(pages.n0 + pages.n1), "the ignored workload's pages moved: \(pages)")
            let affinity = try run.affinity("ignored-after")
            try #require(!affinity.isEmpty, "the ignored workload's threads were not read")
            #expect(affinity.values.allSatisfy { $0 == "2-3" })
            let pid = try #require(Int(run.trimmed("ignored-pid.txt")))
            // The daemon matched it to the ignore policy (not merely missed it)…
            let entry = try #require(run.daemonStatus("notignored").processes.first { Int($0.pid) == pid },
                                     "the ignored workload is not in the daemon's status")
            #expect(entry.policy == "lab-30-ignore" && entry.standing == "ignored", "\(entry)")
            // …and the journal, which exists and holds the other workload's acts, names it nowhere.
            let journal = try LabJournal(run)
            let other = try #require(Int(run.trimmed("notignored-pids.txt")))
            #expect(!journal.mentions(pid: other).isEmpty, "the journal has no act on the workload that was fixed")
            let acts = journal.mentions(pid: pid)
            #expect(acts.isEmpty, "the daemon acted on the ignored workload: \(acts.prefix(2).map(\.id))")
        }

        @Test("an interleave policy: the existing pages spread within ±5 % of even")
        func interleave() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-40-interleave.rc") == 0, "\(run.contents("apply-40-interleave.txt"))")
            let pages = try run.nodePages("interleave-after-pages.txt")
            let share = Double(pages.n0) / Double(max(pages.n0 + pages.n1, 1))
            print("policy interleave: node 0 share \(String(format: "%.3f", share)) after \(run.contents("interleave-seconds.txt"))")
            #expect(abs(share - 0.5) <= 0.05, "\(pages)")
        }

        @Test("a preferred policy: threads on node 1's CPUs, the existing pages moved there")
        func preferred() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-50-preferred.rc") == 0, "\(run.contents("apply-50-preferred.txt"))")
            let threads = try #require(try run.seconds("preferred-threads-seconds.txt"), "its threads never moved")
            let seconds = try #require(try run.seconds("preferred-seconds.txt"), "its pages never followed")
            print("policy preferred: threads on node 1 \(threads) s after the workload was ready, 95 % of pages \(seconds) s")
            // Followed while it sets up (it pins itself to node 0 once its
            // workers start), not left for the 30 s cool-down.
            #expect(threads <= 15)
            #expect(try run.affinity("preferred-after").values.allSatisfy { $0 == "2-3" })
            let pages = try run.nodePages("preferred-after-pages.txt")
            #expect(Double(pages.n1) >= 0.95 * Double(pages.n0 + pages.n1), "\(pages)")
        }

        @Test("an interleave policy on a shared segment: MPOL_INTERLEAVE on the object, its pages within ±5 % of even")
        func sharedSegmentInterleave() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-60-shm-interleave.rc") == 0, "\(run.contents("apply-60-shm-interleave.txt"))")
            let lines = try run.text("shm-interleave-numa-maps.txt").split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines { #expect(line.contains(" interleave:0-1 "), "\(line)") }
            let pages = try run.nodePages("shm-interleave-after-pages.txt")
            let share = Double(pages.n0) / Double(max(pages.n0 + pages.n1, 1))
            print("policy interleave of a shared segment: node 0 share \(String(format: "%.3f", share)) after \(run.contents("shm-interleave-seconds.txt"))")
            #expect(abs(share - 0.5) <= 0.05, "\(pages)")
        }

        @Test("the policy checks take at most 5 minutes of the guest's time")
        func withinBudget() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            let seconds = try run.seconds(from: "policies-start", to: "policies-end")
            print("policy lab checks: \(String(format: "%.0f", seconds)) s of the 2x2 daemon guest")
            #expect(seconds <= 300)
        }
    }
}
