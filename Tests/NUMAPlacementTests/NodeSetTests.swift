import NUMAModel
@testable import NUMAPlacement
import Testing

/// Units too big for one node: the fewest nodes with room, nearest first,
/// memory spread evenly over them (numa01 and shm-group on 4 one-CPU nodes).
@Suite("Node sets")
struct NodeSetTests {
    let oneCPU = Fixture.topology(nodes: 4, cpus: 1)
    let all = CPUSet(0..<4)

    /// Two busy threads (too many for a one-CPU node), 64 MiB on node 0.
    func numa01(_ pid: Int32, threadNodes: [Int], allowed: CPUSet, owner: AffinityOwner? = .unrestricted,
                pages: [Int: Int] = [0: 64], time: Double) -> Observation {
        Fixture.process(pid: pid, pages: [pages], threadNodes: threadNodes, allowed: allowed, owner: owner,
                        time: time, cpusPerNode: 1)
    }

    /// The first look at numa01's two processes (10, 11), threads spread
    /// over all four nodes: the pair of CPUs each is given.
    func firstPairs(_ engine: inout PlacementEngine) -> [Int32: CPUSet] {
        let first = engine.plan(topology: oneCPU, observations: [
            numa01(10, threadNodes: [0, 2], allowed: all, time: 1),
            numa01(11, threadNodes: [1, 3], allowed: all, time: 1),
        ], now: 1)
        return Dictionary(uniqueKeysWithValues: Fixture.setAffinities(first).map { ($0.process.pid, $0.cpus) })
    }

    @Test("numa01 on 4x1: each process gets two nodes; memory then spreads evenly over them, 1.5× one process's memory moved")
    func numa01() {
        var engine = PlacementEngine()
        let sets = firstPairs(&engine)
        #expect(sets.count == 2)
        #expect(sets.values.allSatisfy { $0.count == 2 }, "\(sets)")
        #expect(Set(sets.values).count == 2, "two different pairs: \(sets)")
        let pairA = sets[10] ?? CPUSet([]), pairB = sets[11] ?? CPUSet([])
        #expect(pairA.intersection(pairB).isEmpty)
        // Threads now one per node of their pair; memory moves after two looks.
        var moved: [Int32: [NodeID: UInt64]] = [:]
        for t in 2...4 {
            let plan = engine.plan(topology: oneCPU, observations: [
                numa01(10, threadNodes: pairA.ids, allowed: pairA, owner: .numabalance, time: Double(t)),
                numa01(11, threadNodes: pairB.ids, allowed: pairB, owner: .numabalance, time: Double(t)),
            ], now: Double(t))
            #expect(Fixture.setAffinities(plan).isEmpty, "threads stay where they were sent")
            for case .moveRanges(let move) in plan.actions {
                moved[move.process.pid, default: [:]][move.to, default: 0] += move.ranges.reduce(0) { $0 + $1.end - $1.start }
            }
        }
        // The pair holding node 0 moves half of its 64 MiB (the chunks for its
        // other node); the other pair all of it, half to each node.
        let mib: UInt64 = 1 << 20
        let withNode0 = pairA.contains(0) ? Int32(10) : 11, other: Int32 = withNode0 == 10 ? 11 : 10
        #expect(moved[withNode0]?.count == 1)
        #expect(moved[withNode0]?.values.first == 32 * mib)
        #expect(moved[other]?.count == 2)
        #expect(moved[other]?.values.allSatisfy { $0 == 32 * mib } == true, "\(moved)")
    }

    @Test("numa01 on 4x1: a look that catches both threads on one node of the pair (reads 100 % local) does not hold the spread back")
    func spreadNotHeldByOneLook() {
        var engine = PlacementEngine()
        let sets = firstPairs(&engine)
        let withNode0: Int32 = sets[10]?.contains(0) == true ? 10 : 11, other: Int32 = withNode0 == 10 ? 11 : 10
        let pair = sets[withNode0] ?? CPUSet([]), otherPair = sets[other] ?? CPUSet([])
        func look(_ t: Double, caught: Bool) -> [Observation] {
            [numa01(withNode0, threadNodes: caught ? [0, 0] : pair.ids, allowed: pair, owner: .numabalance, time: t),
             numa01(other, threadNodes: otherPair.ids, allowed: otherPair, owner: .numabalance, time: t)]
        }
        // Look 2 catches both threads on node 0, with all of the memory: 100 %
        // local. Still the second look in a row off the even layout (the
        // first: the plan that gave the pair): its half for node 1 moves by look 3.
        var moved: UInt64 = 0
        for (t, caught) in [(2.0, true), (3.0, false)] {
            let plan = engine.plan(topology: oneCPU, observations: look(t, caught: caught), now: t)
            for case .moveRanges(let m) in plan.actions where m.process.pid == withNode0 {
                moved += m.ranges.reduce(0) { $0 + $1.end - $1.start }
            }
        }
        #expect(moved == 32 << 20)
    }

    @Test("a unit that fits one node is not given a set; nor one that would need every node")
    func onlyWhenItHelps() {
        var engine = PlacementEngine()
        let small = Fixture.process(pid: 10, pages: [[0: 64]], threadNodes: [2], allowed: all, cpusPerNode: 1)
        let plan = engine.plan(topology: oneCPU, observations: [small], now: 1)
        let pins = Fixture.setAffinities(plan)
        #expect(pins.count == 1 && pins.first?.cpus == CPUSet([0]), "small goes to its memory's one CPU: \(pins)")
        var fresh = PlacementEngine()
        let huge = Fixture.process(pid: 11, pages: [[0: 64]], threadNodes: [0, 1, 2, 3], allowed: all, cpusPerNode: 1)
        #expect(Fixture.setAffinities(fresh.plan(topology: oneCPU, observations: [huge], now: 1)).isEmpty)
    }

    @Test("shm-group on 4x1: each group of two one-thread processes gets two nodes; its segment is interleaved over them")
    func shmGroup() throws {
        func member(_ pid: Int32, group: UInt64, node: Int, allowed: CPUSet, owner: AffinityOwner?, time: Double) -> Observation {
            var o = Fixture.process(pid: pid, pages: [[0: 64]], threadNodes: [node], allowed: allowed, owner: owner,
                                    shared: "\(group)", time: time, cpusPerNode: 1)
            o.sharedObjects = [SharedObject(kind: .sysvShm, device: "0:1", inode: group, path: "/SYSV\(group)",
                                            bytes: 64 << 20)]
            return o
        }
        var engine = PlacementEngine()
        let first = engine.plan(topology: oneCPU, observations: [
            member(10, group: 1, node: 0, allowed: all, owner: .unrestricted, time: 1),
            member(11, group: 1, node: 2, allowed: all, owner: .unrestricted, time: 1),
            member(20, group: 2, node: 1, allowed: all, owner: .unrestricted, time: 1),
            member(21, group: 2, node: 3, allowed: all, owner: .unrestricted, time: 1),
        ], now: 1)
        let sets = Dictionary(uniqueKeysWithValues: Fixture.setAffinities(first).map { ($0.process.pid, $0.cpus) })
        #expect(sets.count == 4)
        #expect(sets[10] == sets[11] && sets[20] == sets[21])
        #expect(sets[10].map { $0.intersection(sets[20] ?? CPUSet([])).isEmpty } == true)
        // Each group's set has its two nodes (else the rounds below cannot be built).
        let a = try #require(sets[10].flatMap { $0.ids.count == 2 ? $0 : nil }, "group 1's set: \(sets)")
        let b = try #require(sets[20].flatMap { $0.ids.count == 2 ? $0 : nil }, "group 2's set: \(sets)")
        var interleaves: [SetObjectPolicy] = []
        for t in 2...3 {
            let plan = engine.plan(topology: oneCPU, observations: [
                member(10, group: 1, node: a.ids[0], allowed: a, owner: .numabalance, time: Double(t)),
                member(11, group: 1, node: a.ids[1], allowed: a, owner: .numabalance, time: Double(t)),
                member(20, group: 2, node: b.ids[0], allowed: b, owner: .numabalance, time: Double(t)),
                member(21, group: 2, node: b.ids[1], allowed: b, owner: .numabalance, time: Double(t)),
            ], now: Double(t))
            for case .setObjectPolicy(let o) in plan.actions { interleaves.append(o) }
        }
        #expect(interleaves.count == 2, "\(interleaves)")
        #expect(interleaves.allSatisfy { $0.policy == .interleave && $0.nodes.count == 2 })
    }

    @Test("a member pinned alone whose group then forms too big for one node: the group gets its nodes at once")
    func groupFormsAfterAPin() throws {
        func member(_ pid: Int32, node: Int, allowed: CPUSet, owner: AffinityOwner?, time: Double) -> Observation {
            var o = Fixture.process(pid: pid, pages: [[0: 64]], threadNodes: [node], allowed: allowed, owner: owner,
                                    shared: "1", time: time, cpusPerNode: 1)
            o.sharedObjects = [SharedObject(kind: .sysvShm, device: "0:1", inode: 1, path: "/SYSV1", bytes: 64 << 20)]
            return o
        }
        var engine = PlacementEngine()
        // Its partner still allocating (not observed): pid 20 alone fits a node and is pinned to node 0.
        let first = engine.plan(topology: oneCPU, observations: [member(20, node: 2, allowed: all, owner: .unrestricted,
                                                                        time: 1)], now: 1)
        let pinned = try #require(Fixture.setAffinities(first).first).cpus
        #expect(pinned.count == 1)
        let second = engine.plan(topology: oneCPU, observations: [
            member(20, node: pinned.ids[0], allowed: pinned, owner: .numabalance, time: 2),
            member(21, node: 3, allowed: all, owner: .unrestricted, time: 2),
        ], now: 2)
        let moves = Fixture.setAffinities(second)
        #expect(moves.count == 2, "\(moves)")
        #expect(moves.allSatisfy { $0.cpus.count == 2 && $0.reason.rule == .consolidate }, "\(moves)")
    }

    @Test("a unit given two nodes counts on both when its threads share one of them for a moment beyond its CPUs")
    func setLoadCountsEvenly() {
        var engine = PlacementEngine()
        let first = engine.plan(topology: oneCPU, observations: [numa01(10, threadNodes: [0, 2], allowed: all, time: 1)],
                                now: 1)
        let pair = try? #require(Fixture.setAffinities(first).first?.cpus)
        let given = pair ?? all
        #expect(given.count == 2)
        // Both of its threads on the pair's first node this instant (the other
        // looks free); a second process arrives, running on the two other nodes.
        let outside = (0..<4).filter { !given.contains($0) }
        let second = engine.plan(topology: oneCPU, observations: [
            numa01(10, threadNodes: [given.ids[0], given.ids[0]], allowed: given, owner: .numabalance, time: 2),
            numa01(11, threadNodes: outside, allowed: all, pages: [0: 64], time: 2),
        ], now: 2)
        let other = Fixture.setAffinities(second).first { $0.process.pid == 11 }?.cpus
        #expect(other?.count == 2)
        #expect(other.map { $0.intersection(given).isEmpty } == true, "\(String(describing: other)) overlaps \(given)")
    }
}
