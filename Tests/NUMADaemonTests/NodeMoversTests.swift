import Foundation
import NUMAModel
import NUMASystem
import Synchronization
import Testing
@testable import NUMADaemon

/// The movers: one pinned thread per node with CPUs, each move on its
/// destination's, jobs for different nodes at once.
@Suite("node movers")
struct NodeMoversTests {
    /// Two nodes with CPUs (both on CPU 0: any machine can pin there) and a
    /// CPU-less node nearer node 1 than node 0.
    let topology = Topology(
        nodes: [Node(id: 0, cpus: CPUSet([0]), memTotalBytes: 1 << 30, memFreeBytes: 1 << 30),
                Node(id: 1, cpus: CPUSet([0]), memTotalBytes: 1 << 30, memFreeBytes: 1 << 30),
                Node(id: 2, cpus: CPUSet(), memTotalBytes: 1 << 30, memFreeBytes: 1 << 30)],
        distances: [[10, 21, 30], [21, 10, 17], [30, 17, 10]])

    let reason = Reason(rule: .memoryFollowsCPU, summary: "test")

    @Test("a move goes to its destination's mover; affinity stays with the loop")
    func destinations() {
        let who = ProcessIdentity(pid: 10, startTime: 1)
        #expect(NodeMovers.destination(of: .movePages(MovePages(process: who, from: [0], to: 1, bytes: 1, reason: reason))) == 1)
        #expect(NodeMovers.destination(of: .moveRanges(MoveRanges(process: who, ranges: [], to: 0, bytes: 1, reason: reason))) == 0)
        #expect(NodeMovers.destination(of: .setAffinity(SetAffinity(process: who, cpus: CPUSet([0]), nodes: [0], reason: reason))) == nil)
        let object = SetObjectPolicy(objectKey: "k", via: who, ranges: [], policy: .preferred, nodes: [1],
                                     moveExisting: false, bytes: 4096, reason: reason)
        #expect(NodeMovers.destination(of: .setObjectPolicy(object)) == nil, "a policy that moves nothing is quick")
        var moving = object
        moving.moveExisting = true
        #expect(NodeMovers.destination(of: .setObjectPolicy(moving)) == 1)
    }

    @Test("one named thread per node with CPUs; a CPU-less node's moves go to its nearest")
    func threads() throws {
        let movers = try NodeMovers(topology: topology)
        try movers.start()
        defer { movers.stop() }
        #expect(Set(movers.tids.keys) == [0, 1])
        for (node, tid) in movers.tids {
            let name = try String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)
            #expect(name.trimmingCharacters(in: .whitespacesAndNewlines) == "nb-mover-\(node.rawValue)")
        }
        let ran = Mutex<[Int32]>([])
        #expect(movers.submit(job: 1, pids: [7], to: 2) { _ in ran.withLock { $0.append(Host.tid) } })
        #expect(!movers.submit(job: 2, pids: [8], to: 9) { _ in }, "no such node: refused, not lost")
        let news = waitForNews(movers, jobs: 1)
        #expect(ran.withLock { $0 } == [movers.tids[1]!], "node 2's move ran on node 1's mover")
        guard case .finished(let job, let pids)? = news.last else { Issue.record("no end of job: \(news)"); return }
        #expect(job == 1 && pids == [7])
    }

    @Test("jobs for two nodes run at once")
    func overlap() throws {
        let movers = try NodeMovers(topology: topology)
        try movers.start()
        defer { movers.stop() }
        let spans = Mutex<[NodeID: (Double, Double)]>([:])
        for node in [NodeID(0), NodeID(1)] {
            _ = movers.submit(job: Int(node.rawValue), pids: [], to: node) { _ in
                let start = Clock.monotonicSeconds()
                usleep(300_000)
                spans.withLock { $0[node] = (start, Clock.monotonicSeconds()) }
            }
        }
        _ = waitForNews(movers, jobs: 2)
        let s = spans.withLock { $0 }
        let a = try #require(s[0]), b = try #require(s[1])
        #expect(a.0 < b.1 && b.0 < a.1, "the two jobs did not overlap: \(a) \(b)")
    }

    func waitForNews(_ movers: NodeMovers, jobs: Int) -> [NodeMovers.News] {
        var all: [NodeMovers.News] = []
        let deadline = Clock.monotonicSeconds() + 10
        while Clock.monotonicSeconds() < deadline {
            all += movers.take()
            if all.filter({ if case .finished = $0 { true } else { false } }).count >= jobs { break }
            usleep(5000)
        }
        return all
    }
}

