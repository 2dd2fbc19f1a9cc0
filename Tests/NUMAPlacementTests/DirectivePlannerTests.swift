import NUMAModel
import NUMAPlacement
import Testing

/// Policy modes as pure planning: pin, preferred and interleave on hand-made
/// machines of 2 and 4 nodes (4 CPUs and 8 GiB each), one with a CPU-less
/// and one with a memory-less node.
@Suite("Directive planner")
struct DirectivePlannerTests {
    let two = Fixture.topology(nodes: 2)
    let four = Fixture.topology(nodes: 4)
    let mib: UInt64 = 1 << 20

    /// Two 64 MiB private ranges with these sampled pages, two busy threads.
    func process(_ pages: [[Int: Int]], threads: [Int], allowed: CPUSet, cpuset: CPUSet? = nil) -> Observation {
        Fixture.process(pid: 42, pages: pages, threadNodes: threads, allowed: allowed, cpuset: cpuset)
    }

    func plan(_ directive: PolicyDirective, _ o: Observation, on topology: Topology, migrate: Bool = true,
              sharedObjects: Bool = true) -> [Action] {
        DirectivePlanner.plan(directive, observation: o, topology: topology, policyName: "test-policy",
                              migrate: migrate, sharedObjects: sharedObjects)
    }

    func affinities(_ actions: [Action]) -> [SetAffinity] {
        actions.compactMap { if case .setAffinity(let a) = $0 { a } else { nil } }
    }

    func rangeMoves(_ actions: [Action]) -> [MoveRanges] {
        actions.compactMap { if case .moveRanges(let m) = $0 { m } else { nil } }
    }

    func objectPolicies(_ actions: [Action]) -> [SetObjectPolicy] {
        actions.compactMap { if case .setObjectPolicy(let p) = $0 { p } else { nil } }
    }

    // MARK: pin

    @Test("pin on 2 nodes: threads to node 0's CPUs, the private ranges on node 1 to node 0")
    func pinTwoNodes() throws {
        let o = process([[1: 40], [1: 40]], threads: [1, 1], allowed: Fixture.cpus(of: [0, 1]))
        let actions = plan(.pin(cpuNodes: [0], memoryNodes: [0]), o, on: two)
        #expect(actions.count == 2)
        let affinity = try #require(affinities(actions).first)
        #expect(affinity.cpus == Fixture.cpus(of: [0]))
        #expect(affinity.nodes == [0])
        #expect(affinity.reason.rule == .policyPin)
        #expect(affinity.reason.summary.hasPrefix("policy test-policy pins it to node 0"))
        guard case .setAffinity = actions[0] else { Issue.record("affinity first"); return }
        let move = try #require(rangeMoves(actions).first)
        #expect(move.to == 0)
        #expect(move.ranges.count == 2)
        #expect(move.bytes == 128 * mib)
        #expect(move.reason.rule == .policyPin)
        #expect(move.reason.bytes == 128 * mib)
        #expect(move.reason.expectedLocality == 1)
    }

    @Test("pin on 4 nodes over nodes 0 and 1: the off-node bytes split round-robin in 2 MiB chunks")
    func pinFourNodesSplit() {
        let o = process([[3: 40], [3: 40]], threads: [3, 3], allowed: four.allCPUs)
        let actions = plan(.pin(cpuNodes: [0, 1], memoryNodes: [0, 1]), o, on: four)
        #expect(affinities(actions).map(\.cpus) == [Fixture.cpus(of: [0, 1])])
        let moves = rangeMoves(actions)
        #expect(moves.map(\.to) == [0, 1])
        #expect(moves.map(\.bytes) == [64 * mib, 64 * mib])
        // Chunks alternate: node 0 never holds two neighbouring chunks.
        for move in moves {
            #expect(move.ranges.allSatisfy { $0.bytes == DirectivePlanner.chunkBytes })
            #expect(move.ranges.count == 32)
        }
        let first = moves[0].ranges.map(\.start).sorted()
        #expect(zip(first, first.dropFirst()).allSatisfy { $1 - $0 == 2 * DirectivePlanner.chunkBytes })
    }

    @Test("pin on 4 nodes: only the ranges with pages off the nodes move")
    func pinMovesOnlyRemoteRanges() {
        let o = process([[0: 40], [2: 40]], threads: [0], allowed: Fixture.cpus(of: [0]))
        let actions = plan(.pin(cpuNodes: [0], memoryNodes: [0]), o, on: four)
        #expect(affinities(actions).isEmpty)
        let moves = rangeMoves(actions)
        #expect(moves.count == 1)
        #expect(moves.first?.ranges == [AddressRange(start: o.ranges[1].start, end: o.ranges[1].end)])
        #expect(moves.first?.bytes == 64 * mib)
    }

    @Test("pin: affinity stays inside the cgroup's cpuset")
    func pinInsideCpuset() {
        let cpuset = CPUSet([0, 1, 4, 5])
        let o = process([[0: 40]], threads: [0], allowed: cpuset, cpuset: cpuset)
        let actions = plan(.pin(cpuNodes: [0], memoryNodes: [0]), o, on: two)
        #expect(affinities(actions).map(\.cpus) == [CPUSet([0, 1])])
    }

    // MARK: preferred

    @Test("preferred on 2 nodes: threads on node 1's CPUs, memory there")
    func preferredTwoNodes() throws {
        let o = process([[0: 40], [0: 40]], threads: [0], allowed: two.allCPUs)
        let actions = plan(.preferred(nodes: [1]), o, on: two)
        let affinity = try #require(affinities(actions).first)
        #expect(affinity.cpus == Fixture.cpus(of: [1]))
        #expect(affinity.reason.rule == .policyPreferred)
        #expect(affinity.reason.summary.contains("policy test-policy prefers node 1"))
        #expect(rangeMoves(actions).map(\.to) == [1])
        #expect(rangeMoves(actions).map(\.bytes) == [128 * mib])
    }

    @Test("preferred: a cgroup without the node's CPUs keeps the affinity, and the reason says so")
    func preferredCgroupForbids() throws {
        let node0 = Fixture.cpus(of: [0])
        let o = process([[0: 40]], threads: [0], allowed: node0, cpuset: node0)
        let actions = plan(.preferred(nodes: [1]), o, on: two)
        #expect(affinities(actions).isEmpty)
        let move = try #require(rangeMoves(actions).first)
        #expect(move.to == 1)
        #expect(move.reason.summary.contains("affinity left alone"))
    }

    @Test("preferred on 4 nodes over nodes 2 and 3")
    func preferredFourNodes() {
        let o = process([[0: 40], [0: 40]], threads: [0], allowed: four.allCPUs)
        let actions = plan(.preferred(nodes: [2, 3]), o, on: four)
        #expect(affinities(actions).map(\.cpus) == [Fixture.cpus(of: [2, 3])])
        #expect(rangeMoves(actions).map(\.to) == [2, 3])
        #expect(rangeMoves(actions).reduce(0) { $0 + $1.bytes } == 128 * mib)
    }

    // MARK: interleave

    @Test("interleave on 2 nodes: half the chunks to node 1, threads widened to both nodes")
    func interleaveTwoNodes() throws {
        let o = process([[0: 40], [0: 40]], threads: [0, 0], allowed: Fixture.cpus(of: [0]))
        let actions = plan(.interleave(nodes: [0, 1]), o, on: two)
        let affinity = try #require(affinities(actions).first)
        #expect(affinity.cpus == two.allCPUs)
        #expect(affinity.reason.rule == .policyInterleave)
        let moves = rangeMoves(actions)
        // The chunks for node 0 are already there: only node 1's move.
        #expect(moves.map(\.to) == [1])
        #expect(moves.first?.bytes == 64 * mib)
        #expect(moves.first?.ranges.count == 32)
        #expect(moves.first?.reason.summary.contains("2 MiB chunks") == true)
    }

    @Test("interleave on 4 nodes, all on node 0: three quarters move, a quarter to each other node")
    func interleaveFourNodes() {
        let o = process([[0: 40], [0: 40]], threads: [0, 1, 2, 3], allowed: four.allCPUs)
        let actions = plan(.interleave(nodes: [0, 1, 2, 3]), o, on: four)
        #expect(affinities(actions).isEmpty)   // already allowed on every CPU
        let moves = rangeMoves(actions)
        #expect(moves.map(\.to) == [1, 2, 3])
        #expect(moves.allSatisfy { $0.bytes == 32 * mib })
        #expect(moves.first?.reason.expectedLocality.map { abs($0 - 0.25) < 1e-9 } == true)
    }

    @Test("interleave does not narrow an affinity wider than its nodes")
    func interleaveKeepsWiderAffinity() {
        let o = process([[0: 20, 1: 20]], threads: [0, 2], allowed: four.allCPUs)
        #expect(plan(.interleave(nodes: [0, 1]), o, on: four).isEmpty)
    }

    // MARK: idempotence

    @Test("idempotent: a process already as the directive wants gets no action")
    func idempotent() {
        let node0 = Fixture.cpus(of: [0])
        // 99 % on node 0, pinned there: nothing to do.
        let pinned = process([[0: 99, 1: 1]], threads: [0], allowed: node0)
        #expect(plan(.pin(cpuNodes: [0], memoryNodes: [0]), pinned, on: two).isEmpty)
        #expect(plan(.preferred(nodes: [0]), pinned, on: two).isEmpty)
        // Even within ±5 pp on each node, allowed on both: nothing to do.
        let even = process([[0: 53, 1: 47], [0: 50, 1: 50]], threads: [0, 1], allowed: two.allCPUs)
        #expect(plan(.interleave(nodes: [0, 1]), even, on: two).isEmpty)
        // Twice in a row: the second observation (after the moves) plans nothing.
        let before = process([[1: 40]], threads: [1], allowed: two.allCPUs)
        let first = plan(.pin(cpuNodes: [0], memoryNodes: [0]), before, on: two)
        #expect(first.count == 2)
        var after = before
        after.allowedCPUs = node0
        after.ranges[0].pagesByNode = [0: 40]
        after.pages.pagesByNode = [0: 40]
        #expect(plan(.pin(cpuNodes: [0], memoryNodes: [0]), after, on: two).isEmpty)
    }

    @Test("not yet satisfied: 97 % on the node moves, 57/43 interleave re-spreads")
    func justOutside() {
        let node0 = Fixture.cpus(of: [0])
        let almost = process([[0: 97, 1: 3]], threads: [0], allowed: node0)
        #expect(rangeMoves(plan(.pin(cpuNodes: [0], memoryNodes: [0]), almost, on: two)).count == 1)
        let uneven = process([[0: 57, 1: 43]], threads: [0, 1], allowed: two.allCPUs)
        #expect(!rangeMoves(plan(.interleave(nodes: [0, 1]), uneven, on: two)).isEmpty)
    }

    // MARK: CPU-less and memory-less nodes

    /// Nodes 0 and 1 with 4 CPUs and 8 GiB; node 2 a CPU-less 8 GiB memory tier; node 3 CPUs without memory.
    var tiered: Topology {
        var nodes = Fixture.topology(nodes: 2).nodes
        nodes.append(Node(id: 2, cpus: CPUSet(), memTotalBytes: 8 << 30, memFreeBytes: 4 << 30))
        nodes.append(Node(id: 3, cpus: CPUSet(8..<12), memTotalBytes: 0, memFreeBytes: 0))
        return Topology(nodes: nodes, distances: (0..<4).map { i in (0..<4).map { $0 == i ? 10 : 20 } })
    }

    @Test("CPU-less node: memory goes there, threads never")
    func cpuLessNode() throws {
        let o = process([[0: 40]], threads: [0], allowed: tiered.allCPUs)
        let pin = plan(.pin(cpuNodes: [0], memoryNodes: [2]), o, on: tiered)
        #expect(affinities(pin).map(\.cpus) == [Fixture.cpus(of: [0])])
        #expect(rangeMoves(pin).map(\.to) == [2])
        let preferred = plan(.preferred(nodes: [2]), o, on: tiered)
        #expect(affinities(preferred).isEmpty)
        let move = try #require(rangeMoves(preferred).first)
        #expect(move.to == 2)
        #expect(move.reason.summary.contains("no CPUs"))
    }

    @Test("memory-less node: threads may go there, memory never")
    func memorylessNode() {
        let o = process([[0: 40], [0: 40]], threads: [0], allowed: Fixture.cpus(of: [0]))
        let interleave = plan(.interleave(nodes: [0, 3]), o, on: tiered)
        // Node 0 is the only memory target and already holds everything.
        #expect(rangeMoves(interleave).isEmpty)
        #expect(affinities(interleave).map(\.cpus) == [Fixture.cpus(of: [0]).union(CPUSet(8..<12))])
        let pin = plan(.pin(cpuNodes: [3], memoryNodes: [3]), o, on: tiered)
        #expect(affinities(pin).map(\.cpus) == [CPUSet(8..<12)])
        #expect(rangeMoves(pin).isEmpty)
    }

    @Test("memory never goes to a node outside the process's cpuset (Mems_allowed)")
    func outsideMemsAllowed() {
        var o = process([[0: 40]], threads: [0], allowed: Fixture.cpus(of: [0]))
        o.allowedNodes = [0]
        #expect(rangeMoves(plan(.preferred(nodes: [1]), o, on: two)).isEmpty)
        #expect(rangeMoves(plan(.interleave(nodes: [0, 1]), o, on: two)).isEmpty)
        o.allowedNodes = [0, 1]
        #expect(rangeMoves(plan(.preferred(nodes: [1]), o, on: two)).map(\.to) == [1])
    }

    // MARK: migrate and shared objects

    @Test("migrate: false moves threads only")
    func noMigrate() {
        let o = process([[1: 40]], threads: [1], allowed: two.allCPUs)
        let actions = plan(.pin(cpuNodes: [0], memoryNodes: [0]), o, on: two, migrate: false)
        #expect(actions.count == 1)
        #expect(affinities(actions).map(\.cpus) == [Fixture.cpus(of: [0])])
        let preferred = process([[1: 40]], threads: [0], allowed: Fixture.cpus(of: [0]))
        #expect(plan(.preferred(nodes: [0]), preferred, on: two, migrate: false).isEmpty)
    }

    /// One private range on node 1, one 64 MiB SysV segment on node 1.
    func withSegment() -> Observation {
        let key = "sysvShm:0:1:7"
        var o = Fixture.process(pid: 42, pages: [[1: 40]], threadNodes: [0], allowed: Fixture.cpus(of: [0]))
        let start = o.ranges[0].end + (1 << 30)
        o.ranges.append(RangePlacement(start: start, end: start + (64 << 20), sharedObject: key,
                                       pagesByNode: [1: 40]))
        o.sharedObjects = [SharedObject(kind: .sysvShm, device: "0:1", inode: 7, path: "/SYSV00000007",
                                        bytes: 64 << 20)]
        o.pages.pagesByNode = [1: 80]
        return o
    }

    @Test("shared objects: pin gives MPOL_PREFERRED, interleave MPOL_INTERLEAVE, existing pages moved")
    func sharedObjects() throws {
        let o = withSegment()
        let pin = plan(.pin(cpuNodes: [0], memoryNodes: [0]), o, on: two)
        let object = try #require(objectPolicies(pin).first)
        #expect(object.policy == .preferred && object.nodes == [0] && object.moveExisting)
        #expect(object.objectKey == "sysvShm:0:1:7")
        #expect(object.bytes == 64 * mib)
        // The private move leaves the segment's range to the object's policy.
        #expect(rangeMoves(pin).flatMap(\.ranges) == [AddressRange(start: o.ranges[0].start, end: o.ranges[0].end)])
        // Objects come before the private pages.
        #expect(pin.firstIndex { if case .setObjectPolicy = $0 { true } else { false } }
                    ?? 9 < pin.firstIndex { if case .moveRanges = $0 { true } else { false } } ?? 0)

        let interleave = plan(.interleave(nodes: [0, 1]), o, on: two)
        let spread = try #require(objectPolicies(interleave).first)
        #expect(spread.policy == .interleave && spread.nodes == [0, 1] && spread.moveExisting)
        #expect(spread.bytes == 32 * mib)

        #expect(objectPolicies(plan(.pin(cpuNodes: [0], memoryNodes: [0]), o, on: two, sharedObjects: false)).isEmpty)
    }

    @Test("two members of one segment in a round: the object's policy is set once, each one's private pages still move")
    func oneObjectPolicyPerRound() {
        let first = withSegment()
        var second = withSegment()
        second.identity = ProcessIdentity(pid: 43, startTime: 1)
        let directive = PolicyDirective.interleave(nodes: [0, 1])
        let actions = DirectivePlanner.oncePerObject(plan(directive, first, on: two) + plan(directive, second, on: two))
        #expect(objectPolicies(actions).count == 1)
        #expect(objectPolicies(actions).first?.via.pid == 42)
        #expect(Set(rangeMoves(actions).map(\.process.pid)) == [42, 43])
    }
}
