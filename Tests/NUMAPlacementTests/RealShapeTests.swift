import NUMAModel
@testable import NUMAPlacement
import Testing

/// Shapes real servers have and the lab's own workloads lacked (issue 14):
/// each test fails on the engine as it was before its fix.
@Suite("Real server shapes")
struct RealShapeTests {
    let node0 = Fixture.cpus(of: [0])
    let node1 = Fixture.cpus(of: [1])
    let all = Fixture.cpus(of: [0, 1])

    /// A JVM-like heap: one mapping reserving `reserved`, of which the sample
    /// found `resident` pages (all on node 0) and `absent` untouched ones.
    func sparseHeap(pid: Int32 = 10, reserved: UInt64, resident: Int, absent: Int, threadNodes: [Int],
                    allowed: CPUSet, owner: AffinityOwner, time: Double) -> Observation {
        var o = Fixture.process(pid: pid, pages: [[0: resident]], rangeBytes: reserved, threadNodes: threadNodes,
                                allowed: allowed, owner: owner, time: time)
        o.ranges[0].notResident = absent
        o.pages.notResident = absent
        o.rssBytes = UInt64(Double(reserved) * Double(resident) / Double(resident + absent))
        return o
    }

    @Test("a sparse heap is charged what it holds: 32 GiB reserved, 2 GiB touched, moves 2 GiB to a node with 16 GiB free")
    func sparseHeapChargedResidentBytes() throws {
        let topology = Fixture.topology(nodes: 2, memory: 32 << 30, free: 16 << 30)
        let reserved: UInt64 = 32 << 30
        // 60 of 960 samples resident: 2 GiB of the 32.
        let touched = Double(reserved) * 60 / 960
        var engine = PlacementEngine()
        var moved: MovePages?
        for round in 1...2 {
            let o = sparseHeap(reserved: reserved, resident: 60, absent: 900, threadNodes: [1, 1],
                               allowed: node1, owner: .user, time: Double(round))
            let plan = engine.plan(topology: topology, observations: [o], now: Double(round))
            #expect(!plan.deferred.contains { $0.reason.rule == .reserve }, "round \(round): \(plan.deferred)")
            for case .movePages(let m) in plan.actions { moved = m }
        }
        let move = try #require(moved, "the 2 GiB never moved (deferred for lack of room?)")
        #expect(move.to == 1)
        #expect(Double(move.bytes) <= touched * 1.01 && Double(move.bytes) >= touched * 0.99,
                "charged \(move.bytes) bytes for \(UInt64(touched)) resident")
        // The budget (1 GiB/s by default) is charged 2 GiB: two seconds, not 32.
        #expect((move.reason.seconds ?? 99) < 3, "\(move.reason)")
        #expect(engine.state.budget.tokens > -Double(2 << 30), "budget drained: \(engine.state.budget.tokens)")
    }

    @Test("a sparse shared segment is charged its resident share too")
    func sparseObjectChargedResidentBytes() throws {
        let topology = Fixture.topology(nodes: 2, memory: 32 << 30, free: 16 << 30)
        let reserved: UInt64 = 16 << 30
        var engine = PlacementEngine()
        var policy: SetObjectPolicy?
        for round in 1...3 {
            let members = [Int32(10), 11].map { pid in
                var o = Fixture.process(pid: pid, pages: [[0: 30]], rangeBytes: reserved, threadNodes: [1, 1],
                                        allowed: node1, owner: .user, shared: "42", time: Double(round))
                o.ranges[0].notResident = 450
                o.pages.notResident = 450
                return o
            }
            let plan = engine.plan(topology: topology, observations: members, now: Double(round))
            for case .setObjectPolicy(let p) in plan.actions { policy = p }
        }
        let set = try #require(policy, "the segment's policy was never set")
        // 30 of 480 samples resident: 1 GiB of 16.
        let touched = Double(reserved) / 16
        #expect(Double(set.bytes) <= touched * 1.05, "charged \(set.bytes) for \(UInt64(touched)) resident")
    }

    // MARK: groups from access, private memory with its own threads

    /// A process whose ranges map the given objects (nil: private), all pages
    /// on node 0, with busy threads on `threadNodes` (or one idle thread).
    func mapping(pid: Int32, objects: [String?], threadNodes: [Int], busy: Bool = true, pages: [Int] = [],
                 allowed: CPUSet? = nil, owner: AffinityOwner = .unrestricted, time: Double,
                 topology: Topology) -> Observation {
        let rows = objects.indices.map { i in [i < pages.count ? pages[i] : 0: 40] }
        var o = Fixture.process(pid: pid, pages: rows, threadNodes: threadNodes, busy: busy,
                                allowed: allowed ?? topology.allCPUs, owner: owner, time: time, cpusPerNode: 2)
        for i in objects.indices { o.ranges[i].sharedObject = objects[i] }
        o.sharedObjects = []
        return o
    }

    @Test("a supervisor keeping every segment attached and idle ties no groups together and is left alone")
    func supervisorTiesNothing() {
        let topology = Fixture.topology(nodes: 2, cpus: 2)
        var engine = PlacementEngine()
        var acts: [Action] = []
        for round in 1...4 {
            let t = Double(round)
            let observations = [
                mapping(pid: 50, objects: ["A", "B"], threadNodes: [0], busy: false, time: t, topology: topology),
                mapping(pid: 51, objects: ["A"], threadNodes: [0], time: t, topology: topology),
                mapping(pid: 52, objects: ["A"], threadNodes: [0], time: t, topology: topology),
                mapping(pid: 53, objects: ["B"], threadNodes: [1], time: t, topology: topology),
                mapping(pid: 54, objects: ["B"], threadNodes: [1], time: t, topology: topology),
            ]
            acts += engine.plan(topology: topology, observations: observations, now: t).actions
        }
        let onParent = acts.filter { action in
            switch action {
            case .setAffinity(let a): a.process.pid == 50
            case .swap(let s): s.a.pid == 50 || s.b.pid == 50
            case .movePages(let m): m.process.pid == 50
            case .moveRanges(let m): m.process.pid == 50
            case .setObjectPolicy: false
            }
        }
        #expect(onParent.isEmpty, "the idle supervisor was acted on: \(onParent)")
        // Group B runs on node 1 (node 0's two CPUs are group A's): its segment follows it there.
        let bToNode1 = acts.contains { if case .setObjectPolicy(let p) = $0 { p.objectKey == "B" && p.nodes == [1] } else { false } }
        #expect(bToNode1, "segment B did not follow its group to node 1: \(acts)")
        let aMoved = acts.contains { if case .setObjectPolicy(let p) = $0 { p.objectKey == "A" } else { false } }
        #expect(!aMoved, "segment A, already with its group, was moved: \(acts)")
    }

    @Test("a group member's private memory stays with its own threads, whatever another member's pin says")
    func privateMemoryFollowsItsOwnThreads() {
        let topology = Fixture.topology(nodes: 2, cpus: 2)
        let node0 = CPUSet([0, 1])
        var engine = PlacementEngine()
        var acts: [Action] = []
        for round in 1...4 {
            let t = Double(round)
            let observations = [
                mapping(pid: 60, objects: ["S"], threadNodes: [0], allowed: node0, owner: .user, time: t,
                        topology: topology),
                // Its heap (range 1, private) on node 1 where its two threads run.
                mapping(pid: 61, objects: ["S", nil], threadNodes: [1, 1], pages: [0, 1], time: t, topology: topology),
            ]
            acts += engine.plan(topology: topology, observations: observations, now: t).actions
        }
        let heapAway = acts.contains { action in
            switch action {
            case .movePages(let m): m.process.pid == 61 && m.to == 0
            case .moveRanges(let m): m.process.pid == 61 && m.to == 0
            default: false
            }
        }
        #expect(!heapAway, "member 61's heap was moved away from its threads to node 0: \(acts)")
    }

    @Test("a hugetlb range is moved by its ranges with its huge page size, never by migrate_pages of the whole process")
    func hugetlbRangeKeepsItsPageSize() throws {
        let topology = Fixture.topology(nodes: 2)
        var engine = PlacementEngine()
        var moved: MoveRanges?
        for round in 1...2 {
            var o = Fixture.process(pid: 70, pages: [[0: 64]], threadNodes: [1, 1], allowed: node1, owner: .user,
                                    time: Double(round))
            o.ranges[0].pageBytes = 2 << 20
            let plan = engine.plan(topology: topology, observations: [o], now: Double(round))
            #expect(!plan.actions.contains { if case .movePages = $0 { true } else { false } })
            for case .moveRanges(let m) in plan.actions { moved = m }
        }
        let move = try #require(moved, "the hugetlb range was not moved")
        #expect(move.ranges.allSatisfy { $0.pageBytes == 2 << 20 } && move.to == 1)
    }

    // MARK: scan period and state

    @Test("state lives as long as the longest scan period: a process scanned every 10 minutes is not forgotten between scans")
    func stateOutlivesTheScanPeriod() {
        let topology = Fixture.topology(nodes: 2)
        var engine = PlacementEngine(config: PlacementConfig(scanPeriodMax: 600))
        let a = Fixture.process(pid: 80, pages: [[1: 40]], threadNodes: [1], allowed: all, time: 1)
        _ = engine.plan(topology: topology, observations: [a], now: 1)
        // Others are observed meanwhile; A's next scan is 5 minutes later.
        for t in stride(from: 60.0, through: 300, by: 60) {
            let b = Fixture.process(pid: 81, pages: [[0: 40]], threadNodes: [0], allowed: all, time: t)
            _ = engine.plan(topology: topology, observations: [b], now: t)
        }
        #expect(engine.state.processes.contains { $0.identity == a.identity }, "A's state was forgotten before its next scan")
    }

    @Test("a fault the plan will migrate was remote when it happened: an all-remote process backs off as in the kernel")
    func migratedFaultsCountRemote() throws {
        let topology = Fixture.topology(nodes: 2)
        var engine = PlacementEngine(config: PlacementConfig(scanPeriodMin: 1, scanPeriodMax: 60))
        var periods: [Double] = []
        for round in 1...2 {
            let o = Fixture.process(pid: 90, pages: [[0: 40], [0: 40]], threadNodes: [1, 1], allowed: node1, owner: .user,
                                    time: Double(round))
            let plan = engine.plan(topology: topology, observations: [o], now: Double(round))
            periods.append(try #require(plan.scans.first).periodSeconds)
        }
        // All private and remote, as the kernel counts it: local + shared = 0,
        // so update_task_scan_period doubles the period each time (1 → 2 → 4),
        // also in the round whose plan moves the pages (they were remote).
        #expect(periods == [2, 4], "periods \(periods): the round's own move counted as local faults?")
    }

    @Test("a task whose threads moved to another node starts its scan period again")
    func nodeChangeResetsThePeriod() throws {
        let topology = Fixture.topology(nodes: 2)
        var engine = PlacementEngine(config: PlacementConfig(scanPeriodMin: 1, scanPeriodMax: 60))
        var last = 0.0
        for round in 1...6 {
            let o = Fixture.process(pid: 91, pages: [[0: 40]], threadNodes: [0], allowed: all, time: Double(round))
            last = try #require(engine.plan(topology: topology, observations: [o], now: Double(round)).scans.first).periodSeconds
        }
        #expect(last > 1, "a well-placed private process's period should have grown: \(last)")
        let moved = Fixture.process(pid: 91, pages: [[0: 40]], threadNodes: [1], allowed: all, time: 7)
        let period = try #require(engine.plan(topology: topology, observations: [moved], now: 7).scans.first).periodSeconds
        #expect(period == 1, "threads now on node 1, period \(period)")
    }

    @Test("one interleave chunker: aligned 2 MiB pieces in turn, the turn carried from range to range")
    func interleaveChunks() {
        var pieces: [(UInt64, UInt64, Int)] = []
        let mib: UInt64 = 1 << 20
        let next = InterleaveChunks.forEach(start: 1 * mib, end: 5 * mib, turn: 1, slots: 2) { pieces.append(($0, $1, $2)) }
        #expect(pieces.map(\.0) == [1 * mib, 2 * mib, 4 * mib] && pieces.map(\.1) == [2 * mib, 4 * mib, 5 * mib])
        #expect(pieces.map(\.2) == [1, 0, 1] && next == 4)
        #expect(InterleaveChunks.count(start: 1 * mib, end: 5 * mib) == 3)
    }

    // MARK: too big by memory, and sets that are outgrown

    @Test("fits one node's CPUs but not its memory: not pinned to one node with all its memory pulled there")
    func tooBigByMemory() {
        // 2 nodes x 4 CPUs x 8 GiB; 2 busy threads, one per node, 12 GiB split 6/6.
        let topology = Fixture.topology(nodes: 2, memory: 8 << 30, free: 1 << 30)
        var engine = PlacementEngine()
        var acts: [Action] = []
        for round in 1...3 {
            let o = Fixture.process(pid: 100, pages: [[0: 40], [1: 40]], rangeBytes: 6 << 30, threadNodes: [0, 1],
                                    allowed: all, time: Double(round))
            acts += engine.plan(topology: topology, observations: [o], now: Double(round)).actions
        }
        let oneNode = acts.compactMap { if case .setAffinity(let a) = $0 { a } else { nil } }.filter { $0.nodes.count == 1 }
        #expect(oneNode.isEmpty, "pinned to one node though its memory needs two: \(oneNode)")
        let pulled = acts.contains { if case .movePages = $0 { true } else if case .moveRanges = $0 { true } else { false } }
        #expect(!pulled, "memory pulled onto a node that cannot hold it: \(acts)")
    }

    @Test("a node set numabalance gave is given back when the process outgrows it")
    func outgrownSetReleased() throws {
        let oneCPU = Fixture.topology(nodes: 4, cpus: 1)
        let all4 = CPUSet(0..<4)
        var engine = PlacementEngine()
        let first = engine.plan(topology: oneCPU, observations: [
            Fixture.process(pid: 110, pages: [[0: 40]], threadNodes: [0, 2], allowed: all4, time: 1, cpusPerNode: 1),
        ], now: 1)
        let set = try #require(Fixture.setAffinities(first).first?.cpus, "no node set given: \(first.actions)")
        #expect(set.count == 2)
        // Later (past the cool-down) it runs four busy threads on its two CPUs.
        let grown = Fixture.process(pid: 110, pages: [[0: 20, 1: 20]], threadNodes: set.ids + set.ids, allowed: set,
                                    owner: .numabalance, time: 40, cpusPerNode: 1)
        let plan = engine.plan(topology: oneCPU, observations: [grown], now: 40)
        let released = Fixture.setAffinities(plan).contains { $0.cpus == all4 && $0.reason.rule == .release }
        #expect(released, "four busy threads kept on the two CPUs of its set: \(plan.actions)")
    }

    @Test("the kernel's imbalance rule on moves: no thread sent to pack a node while the other empties")
    func imbalanceRuleOnMoves() {
        let topology = Fixture.topology(nodes: 2)
        var engine = PlacementEngine()
        var toNode0: [SetAffinity] = []
        for round in 1...3 {
            let t = Double(round)
            // Node 0: three busy threads of a well-placed process; node 1: one
            // thread whose memory is on node 0.
            let local = Fixture.process(pid: 120, pages: [[0: 40]], threadNodes: [0, 0, 0], allowed: all, time: t)
            let misplaced = Fixture.process(pid: 121, pages: [[0: 40]], threadNodes: [1], allowed: all, time: t)
            let plan = engine.plan(topology: topology, observations: [local, misplaced], now: t)
            toNode0 += Fixture.setAffinities(plan).filter { $0.process.pid == 121 && $0.nodes == [0] }
        }
        // 3 + 1 on node 0 and none on node 1 is four tasks apart (the kernel allows two).
        #expect(toNode0.isEmpty, "packed node 0 to its last CPU: \(toNode0)")
        #expect(Capacity.keepsBalanceOrSmall(load: 2000, sourceLoad: 2000, destinationLoad: 0,
                                             sourceCapacity: 4000, destinationCapacity: 4000))
        #expect(!Capacity.keepsBalanceOrSmall(load: 1000, sourceLoad: 1000, destinationLoad: 3000,
                                              sourceCapacity: 4000, destinationCapacity: 4000))
    }

    @Test("SMT siblings are not full CPUs: three busy threads do not fit a node of two cores with two threads each")
    func smtSiblings() {
        var topology = Fixture.topology(nodes: 2)
        for i in topology.nodes.indices { topology.nodes[i].coreCount = 2 }
        #expect(topology.nodes[0].capacityMilliCPUs(usable: 4) == 2 * 1000 + 2 * Node.smtSiblingMilliCPUs)
        var engine = PlacementEngine()
        var oneNode: [SetAffinity] = []
        for round in 1...3 {
            let o = Fixture.process(pid: 130, pages: [[0: 40]], threadNodes: [1, 1, 1], allowed: all, time: Double(round))
            oneNode += Fixture.setAffinities(engine.plan(topology: topology, observations: [o], now: Double(round)))
                .filter { $0.nodes.count == 1 }
        }
        #expect(oneNode.isEmpty, "three busy threads pinned to two cores: \(oneNode)")
    }

    @Test("a lightly busy supervisor never pulls its group's segment back to its own node")
    func supervisorDoesNotPullTheSegment() {
        let topology = Fixture.topology(nodes: 2, cpus: 2)
        var engine = PlacementEngine()
        var acts: [Action] = []
        for round in 1...4 {
            let t = Double(round)
            // Segment B already on node 1 with its two workers; the parent
            // (about 1 % of a CPU) on node 0.
            var parent = mapping(pid: 50, objects: ["B"], threadNodes: [0], busy: false, pages: [1], time: t,
                                 topology: topology)
            parent.threads[0].cpuSeconds = 0.02
            let observations = [
                parent,
                mapping(pid: 53, objects: ["B"], threadNodes: [1], pages: [1], time: t, topology: topology),
                mapping(pid: 54, objects: ["B"], threadNodes: [1], pages: [1], time: t, topology: topology),
            ]
            acts += engine.plan(topology: topology, observations: observations, now: t).actions
        }
        let pulled = acts.filter { action in
            switch action {
            case .moveRanges(let m): m.process.pid == 50
            case .movePages(let m): m.process.pid == 50
            default: false
            }
        }
        #expect(pulled.isEmpty, "the supervisor moved its group's segment: \(pulled)")
    }

    @Test("a pin is not undone because an unpinned process's thread wandered onto its node for a moment")
    func wandererDoesNotUndoAPin() throws {
        let topology = Fixture.topology(nodes: 2, cpus: 2)
        let node1 = CPUSet([2, 3]), all2 = CPUSet(0..<4)
        var engine = PlacementEngine()
        // Round 1: A (two busy threads, memory on node 1) spread; B well placed on node 0.
        var pinned: CPUSet?
        for round in 1...2 where pinned == nil {
            let t = Double(round)
            let a = Fixture.process(pid: 140, pages: [[1: 40]], threadNodes: [0, 1], allowed: all2, time: t, cpusPerNode: 2)
            let b = Fixture.process(pid: 141, pages: [[0: 40]], threadNodes: [0, 0], allowed: all2, time: t, cpusPerNode: 2)
            pinned = Fixture.setAffinities(engine.plan(topology: topology, observations: [a, b], now: t, nodeBusy: [:]))
                .first { $0.process.pid == 140 }?.cpus
        }
        try #require(pinned == node1, "A was not gathered on node 1")
        // Next round: A on node 1 under its pin; one of B's threads seen there too.
        let a = Fixture.process(pid: 140, pages: [[1: 40]], threadNodes: [1, 1], allowed: node1, owner: .numabalance,
                                time: 5, cpusPerNode: 2)
        // (B is its user's to run anywhere: the engine does not gather it.)
        let b = Fixture.process(pid: 141, pages: [[0: 40]], threadNodes: [0, 1], allowed: all2, owner: .user, time: 5,
                                cpusPerNode: 2)
        let plan = engine.plan(topology: topology, observations: [a, b], now: 5)
        let released = Fixture.setAffinities(plan).filter { $0.process.pid == 140 }
        #expect(released.isEmpty, "A's pin undone for B's wandering thread: \(released)")
    }

    @Test("crumbs of light load on a node (an idle launcher) leave room for a busy thread per CPU")
    func crumbsLeaveRoom() {
        let topology = Fixture.topology(nodes: 2, cpus: 2)
        let all2 = CPUSet(0..<4)
        var engine = PlacementEngine()
        var toNode0 = false
        for round in 1...2 {
            let t = Double(round)
            var launcher = Fixture.process(pid: 150, pages: [[0: 4]], threadNodes: [0], busy: false, allowed: all2,
                                           time: t, cpusPerNode: 2)
            launcher.threads[0].cpuSeconds = 0.006
            let worker = Fixture.process(pid: 151, pages: [[0: 40]], threadNodes: [1, 1], allowed: all2, time: t,
                                         cpusPerNode: 2)
            let plan = engine.plan(topology: topology, observations: [launcher, worker], now: t)
            toNode0 = toNode0 || Fixture.setAffinities(plan).contains { $0.process.pid == 151 && $0.nodes == [0] }
        }
        #expect(toNode0, "two busy threads kept off node 0 by 6 milli-CPUs of an idle launcher")
    }
}
