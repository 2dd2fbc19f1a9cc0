// Issue 8's lab checks, run in the 2x2 daemon guest (daemon-policies.sh):
// `policy plan` changes nothing; `policy apply` of pin, ignore and
// interleave policies takes effect in the running daemon.
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
            #expect(plan.contains("affinity") && plan.contains("node 1"), "no action listed:\n\(plan)")
            #expect(try run.affinity("plan-after") == run.affinity("plan-before"))
            let before = try run.nodePages("plan-before-pages.txt"), after = try run.nodePages("plan-after-pages.txt")
            #expect(abs(after.n1 - before.n1) < 64, "pages moved to node 1 during plan: \(before) → \(after)")
        }

        @Test("policy apply of a pin policy: the daemon pins the workload to node 1 at once, numa_maps follows")
        func applyPin() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-pin.rc") == 0, "\(run.contents("apply-pin.txt"))")
            #expect(try run.text("apply-pin.txt").contains("generation"))
            let seconds = try #require(try run.seconds("pin-seconds.txt"), "never pinned: \(run.contents("pin-after-affinity.txt"))")
            print("policy pin: in force \(seconds) s after `policy apply`")
            #expect(seconds <= 15)
            #expect(try run.affinity("pin-after").values.allSatisfy { $0 == "2-3" })
            let pages = try run.nodePages("pin-after-pages.txt")
            #expect(Double(pages.n1) >= 0.95 * Double(pages.n0 + pages.n1), "\(pages)")
        }

        @Test("an ignore policy: that workload is left alone while another is fixed")
        func ignore() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-ignore.rc") == 0, "\(run.contents("apply-ignore.txt"))")
            let fixed = try run.probe("notignored")
            #expect(fixed.timeTo(0.9) != nil, "the other workload was not fixed: \(fixed.last)")
            let pages = try run.nodePages("ignored-after-pages.txt")
            #expect(Double(pages.n0) >= 0.95 * Double(pages.n0 + pages.n1), "the ignored workload's pages moved: \(pages)")
            #expect(try run.affinity("ignored-after").values.allSatisfy { $0 == "2-3" })
            let pid = try run.trimmed("ignored-pid.txt")
            let acts = run.contents("journal.jsonl").split(separator: "\n").filter { $0.contains("\"pid\":\(pid),") }
            #expect(acts.isEmpty, "the daemon acted on the ignored workload: \(acts.prefix(2))")
        }

        @Test("an interleave policy: the existing pages spread within ±5 % of even")
        func interleave() async throws {
            let run = try await ScriptRuns.daemon.completedRun("2x2")
            #expect(try run.code("apply-interleave.rc") == 0, "\(run.contents("apply-interleave.txt"))")
            let pages = try run.nodePages("interleave-after-pages.txt")
            let share = Double(pages.n0) / Double(max(pages.n0 + pages.n1, 1))
            print("policy interleave: node 0 share \(String(format: "%.3f", share)) after \(run.contents("interleave-seconds.txt"))")
            #expect(abs(share - 0.5) <= 0.05, "\(pages)")
        }
    }
}
