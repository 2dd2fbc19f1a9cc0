import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct SchedTests {
    @Test func parsesTheHostsSched() throws {
        let sched = try Sched.parse(try Fixture.text("host/self-sched"))
        // This host's kernel has NUMA balancing built in: one node, no faults.
        #expect(sched.hasNUMALines)
        #expect(sched.preferredNode == nil)  // -1
        #expect(sched.currentNode == 0)
        #expect(sched.groupID == nil)
        #expect(sched.nodeFaults.map(\.node) == [0])
        #expect(sched.scanSeq != nil)
    }

    @Test func parsesTwoNodeFaults() throws {
        let sched = try Sched.parse(try Fixture.text("proc/123/sched"))
        #expect(sched == SchedNUMA(
            scanSeq: 5, pagesMigrated: 12, preferredNode: 1, totalFaults: 40, currentNode: 0, groupID: 123,
            nodeFaults: [
                .init(node: 0, taskPrivate: 10, taskShared: 2, groupPrivate: 30, groupShared: 6),
                .init(node: 1, taskPrivate: 20, taskShared: 8, groupPrivate: 60, groupShared: 16),
            ],
            hasNUMALines: true))
    }

    @Test func withoutNUMALines() throws {
        let text = "cat (42, #threads: 1)\n-------------------\nse.exec_start   :   12.000001\nprio   :   120\n"
        let sched = try Sched.parse(text)
        #expect(!sched.hasNUMALines)
        #expect(sched == SchedNUMA())
        #expect(kernelFaults(summing: [sched]) == nil)
        #expect(kernelFaults(summing: []) == nil)
    }

    @Test func kernelThreadHasNoScanSeq() throws {
        let text = "numa_pages_migrated   :   0\nnuma_preferred_nid   :   -1\ntotal_numa_faults   :   0\n"
            + "current_node=1, numa_group_id=0\n"
        let sched = try Sched.parse(text)
        #expect(sched.scanSeq == nil && sched.hasNUMALines && sched.currentNode == 1)
    }

    @Test func sumsThreadsIntoKernelFaults() throws {
        let tasks = try ["proc/123/task/123/sched", "proc/123/task/124/sched"].map {
            try Sched.parse(try Fixture.text($0))
        }
        let faults = try #require(kernelFaults(summing: tasks + [SchedNUMA()]))
        // Node 0: (10 + 2) + (1 + 4); node 1: (20 + 8) + (12 + 8).
        #expect(faults.memory == [0: 17, 1: 48])
        #expect(faults.privateFaults == 10 + 20 + 1 + 12)
        #expect(faults.sharedFaults == 2 + 8 + 4 + 8)
        #expect(faults.cpu.isEmpty)  // the kernel does not print CPU faults
        #expect(faults.groupID == 123)
    }

    @Test(arguments: [
        "",
        "   \n",
        "numa_faults node=0 task_private=1 task_shared=2 group_private=3",
        "numa_faults node=0 task_private=1 task_sh",
        "numa_faults node=x task_private=1 task_shared=2 group_private=3 group_shared=4",
        "numa_faults node=0 task_private=-1 task_shared=2 group_private=3 group_shared=4",
        "numa_faults node=70000 task_private=1 task_shared=2 group_private=3 group_shared=4",
        "current_node=0",
        "current_node=x, numa_group_id=0",
        "total_numa_faults  :  ",
        "total_numa_faults  :  -5",
        "numa_preferred_nid  :  99999999999999999999",
        "mm->numa_scan_seq  :  9223372036854775807",
        "a line with neither colon nor equals",
    ])
    func rejectsGarbage(text: String) {
        #expect(throws: ProcParseError.self) { _ = try Sched.parse(text) }
    }

    @Test func oldKernelsNumaLinesAreSkipped() throws {
        let text = "numa_faults_memory, 0, 0, 1, 0, -1\nnuma_faults_memory, 1, 0, 0, 0, -1\n"
        #expect(try Sched.parse(text).nodeFaults.isEmpty)
    }

    @Test func cutsThrowOrParseAPrefix() throws {
        let text = try Fixture.text("proc/123/sched")
        let full = try Sched.parse(text)
        var parsed = 0, keyed = 0
        for cut in Fixture.cuts(of: text, step: 9) {
            let whole = Fixture.complete(cut).split(separator: "\n")
            do {
                let got = try Sched.parse(cut)
                parsed += 1
                // Every line whole in the cut reads as in the full file; only
                // the cut line itself may read short.
                let keys = Set(whole.map { $0.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" })
                if keys.contains("mm->numa_scan_seq") { keyed += 1; #expect(got.scanSeq == full.scanSeq) }
                if keys.contains("numa_pages_migrated") { #expect(got.pagesMigrated == full.pagesMigrated) }
                if keys.contains("numa_preferred_nid") { #expect(got.preferredNode == full.preferredNode) }
                if keys.contains("total_numa_faults") { #expect(got.totalFaults == full.totalFaults) }
                if whole.contains(where: { $0.hasPrefix("current_node=") }) {
                    #expect(got.currentNode == full.currentNode && got.groupID == full.groupID, "\(got)")
                }
                let faults = whole.filter { $0.hasPrefix("numa_faults node=") }.count
                #expect(Array(got.nodeFaults.prefix(faults)) == Array(full.nodeFaults.prefix(faults)))
                #expect(got.nodeFaults.count <= faults + 1)
            } catch {
                // Only the cut line can be wrong.
                let cutLine = Fixture.completeLines(cut) + 1
                #expect(error.line == cutLine, "line \(error.line ?? 0) of a cut in line \(cutLine): \(error)")
            }
        }
        #expect(keyed > 0, "no parsed cut held the numa keys: the prefix check never ran on them")
        #expect(parsed > 0, "no cut parsed: the prefix check never ran")
    }
}
