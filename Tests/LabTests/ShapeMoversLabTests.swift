// The movers (issue 17), checked in the process-shapes guest (its "movers"
// section): two processes misplaced the opposite ways at once, 256 MiB
// each, move at the same time on the two nodes' movers, and `status`
// answers within a second while they do. Each is started where its memory
// is and pinned to the other node by taskset, both at once ("ready" below:
// just before the pins). Judged by the journal's times, numa_maps, and the
// status calls' own wall-clock times.
import Foundation
import Testing

extension LabTests.ShapeLabTests {
    @Test("movers: two misplaced processes bound for different nodes move at the same time (overlapping journal entries)")
    func moversOverlap() async throws {
        let run = try await Self.run()
        let pids = try run.trimmed("movers-pids.txt").split(separator: " ").compactMap { Int($0) }
        try #require(pids.count == 2, "movers-pids.txt: \(pids)")
        let journal = try ShapeJournal(run)
        // Each process's largest move: its intent (written before the act) and outcome (after).
        func span(_ pid: Int) throws -> (start: Double, end: Double, status: String, pages: Int) {
            let outcome = try #require(journal.outcomes(on: pid).filter { ["movePages", "moveRanges"].contains($0.kind) }
                .max { $0.pagesMoved < $1.pagesMoved }, "no move of pid \(pid) in the journal")
            let intent = try #require(journal.acts.first { $0.id == outcome.id && $0.phase == "intent" },
                                      "no intent for \(outcome.id)")
            return (intent.time, outcome.time, outcome.status ?? "-", outcome.pagesMoved)
        }
        let a = try span(pids[0]), b = try span(pids[1])
        func text(_ t: Double) -> String { String(format: "%.2f", t) }
        print("shapes movers: A \(a.pages) pages \(text(0))–\(text(a.end - a.start)) s [\(a.status)], "
            + "B \(b.pages) pages \(text(b.start - a.start))–\(text(b.end - a.start)) s [\(b.status)], from A's intent")
        #expect(a.start < b.end && b.start < a.end, "the moves did not overlap: A \(a), B \(b)")
        #expect(a.pages >= 60_000 && b.pages >= 60_000, "A moved \(a.pages) pages, B \(b.pages) in their largest acts")
        // And they moved: A's memory to node 1, B's to node 0, counted in numa_maps.
        for (name, pid, node) in [("a", pids[0], 1), ("b", pids[1], 0)] {
            let ready = try PagePlacementTruth(run, snapshot: "movers-\(name)-ready").pagesByNode
            let end = try PagePlacementTruth(run, snapshot: "movers-\(name)-end").pagesByNode
            let share = Double(end[node] ?? 0) / Double(max(1, end.values.reduce(0, +)))
            print("shapes movers: pid \(pid) pages by node \(ready) at ready → \(end)")
            #expect((ready[1 - node] ?? 0) >= 60_000, "pid \(pid) was not misplaced at ready: \(ready)")
            #expect(share >= 0.9, "pid \(pid): \(String(format: "%.3f", share)) on node \(node) at the end: \(end)")
        }
    }

    @Test("movers: `numabalance status` answers within 1 s while a 256 MiB move is in flight")
    func statusDuringMove() async throws {
        let run = try await Self.run()
        // "START END IN_FLIGHT ANSWER": the command's wall time, and the daemon's answer time.
        let calls = try run.text("movers-status.txt").split(separator: "\n").compactMap { line -> (Double, Bool, Double?)? in
            let f = line.split(separator: " ")
            guard f.count == 4, let t0 = Double(f[0]), let t1 = Double(f[1]) else { return nil }
            return (t1 - t0, f[2] == "1", Double(f[3]))
        }
        let during = calls.filter(\.1)
        let answers = during.compactMap(\.2)
        print("shapes movers: \(calls.count) status calls, \(during.count) during a move; the daemon's slowest answer "
            + "during one \(String(format: "%.3f", answers.max() ?? -1)) s (the whole command's slowest "
            + "\(String(format: "%.2f", during.map(\.0).max() ?? -1)) s, its start in a busy guest included)")
        #expect(!during.isEmpty, "no status call saw a move in flight: \(calls)")
        #expect(answers.count == during.count, "a status call during a move gave no answer time: \(during)")
        #expect(answers.allSatisfy { $0 <= 1.0 }, "the daemon took \(answers.filter { $0 > 1.0 }) s to answer during a move")
    }
}
