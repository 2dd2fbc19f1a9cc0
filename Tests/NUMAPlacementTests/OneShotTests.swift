import NUMAModel
import NUMAPlacement
import Testing

/// The one-shot's plan rewrites (`rebalance`), pure functions of the engine
/// since issue 16: the operator's node (`--to`), the whole-process move, the
/// interleave of a spread process, shared ranges as object policies.
@Suite("One-shot plans")
struct OneShotTests {
    static let t2 = Fixture.topology(nodes: 2)
    static let chunk: UInt64 = 2 << 20

    static func kinds(_ plan: Plan) -> [String] {
        plan.actions.map { action in
            switch action {
            case .setAffinity: "affinity"
            case .movePages: "pages"
            case .moveRanges: "ranges"
            case .setObjectPolicy: "object"
            default: "other"
            }
        }
    }

    // MARK: --to NODE

    @Test("--to: threads go first, then every page away from the node, charged the resident bytes")
    func operatorMovesThreadsThenMemory() throws {
        let o = Fixture.process(pid: 10, pages: [[0: 100]], threadNodes: [0], allowed: Fixture.cpus(of: [0, 1]))
        let plan = try OperatorPlan(topology: Self.t2, observation: o, node: 1, cpusetCPUs: nil, cpusetMems: nil)
            .plan(mode: .standalone)
        #expect(Self.kinds(plan) == ["affinity", "pages"])
        guard case .setAffinity(let affinity) = plan.actions.first, case .movePages(let move) = plan.actions.last else {
            Issue.record("actions: \(plan.actions)"); return
        }
        #expect(affinity.cpus == Fixture.cpus(of: [1]))
        #expect(move.to == 1 && move.from == [0])
        #expect(move.bytes == o.residentBytes)
    }

    @Test("--to: a user's pin stays; the memory alone moves and the reason says so")
    func operatorRespectsUserPin() throws {
        let o = Fixture.process(pid: 11, pages: [[0: 100]], threadNodes: [0], allowed: Fixture.cpus(of: [0]),
                                owner: .user)
        let plan = try OperatorPlan(topology: Self.t2, observation: o, node: 1, cpusetCPUs: nil, cpusetMems: nil)
            .plan(mode: .standalone)
        #expect(Self.kinds(plan) == ["pages"])
        #expect(plan.actions.first?.reason.summary.contains("the user's and stays") == true)
    }

    @Test("--to: a node outside the cpuset's memory nodes is refused with the cpuset named")
    func operatorRefusesOutsideCpuset() {
        let o = Fixture.process(pid: 12, pages: [[0: 100]], threadNodes: [0], allowed: Fixture.cpus(of: [0, 1]))
        #expect {
            try OperatorPlan(topology: Self.t2, observation: o, node: 1, cpusetCPUs: nil, cpusetMems: [0])
                .plan(mode: .standalone)
        } throws: { error in
            "\(error)".contains("outside the process's cpuset (memory nodes [0])")
        }
    }

    @Test("--to: a move beyond the node's room above its reserve is refused, naming the room")
    func operatorRefusesBeyondReserve() {
        // 1 GiB nodes with 80 MiB free: the high watermark (64 MiB) and 1/32
        // of the node (32 MiB) leave no room for 128 MiB.
        let small = Fixture.topology(nodes: 2, memory: 1 << 30, free: 80 << 20)
        let o = Fixture.process(pid: 13, pages: [[0: 100], [0: 100]], threadNodes: [0], allowed: Fixture.cpus(of: [0, 1]))
        #expect {
            try OperatorPlan(topology: small, observation: o, node: 1, cpusetCPUs: nil, cpusetMems: nil)
                .plan(mode: .standalone)
        } throws: { error in
            "\(error)".contains("below its reserve") && "\(error)".contains("1/32 of the node")
        }
    }

    @Test("--to: shared memory moves by the object's policy, after the threads and before the private pages")
    func operatorSharedObjectsFirst() throws {
        let o = Fixture.process(pid: 14, pages: [[0: 100]], threadNodes: [0], allowed: Fixture.cpus(of: [0, 1]),
                                shared: "sysv:0:1:7")
        let plan = try OperatorPlan(topology: Self.t2, observation: o, node: 1, cpusetCPUs: nil, cpusetMems: nil)
            .plan(mode: .standalone)
        #expect(Self.kinds(plan) == ["affinity", "object", "pages"])
        guard case .setObjectPolicy(let object) = plan.actions[1] else { return }
        #expect(object.objectKey == "sysv:0:1:7" && object.nodes == [1] && object.moveExisting)
    }

    // MARK: the engine's plan, rewritten

    static func move(_ o: Observation, _ ranges: [AddressRange], to node: NodeID,
                     rule: PlacementRule = .memoryFollowsCPU) -> Action {
        .moveRanges(MoveRanges(process: o.identity, ranges: ranges, to: node, bytes: 1 << 20,
                               reason: Reason(rule: rule, summary: "engine", destination: node)))
    }

    @Test("whole process: moves all going to one node become one move over every private range")
    func wholeProcessExtends() {
        let o = Fixture.process(pid: 20, pages: [[0: 10]], threadNodes: [1], allowed: Fixture.cpus(of: [0, 1]))
        let privateRanges = [AddressRange(start: 0x1000_0000, end: 0x1100_0000), AddressRange(start: 0x2000_0000, end: 0x2000_4000)]
        let engine = [Self.move(o, [AddressRange(start: 0x1000_0000, end: 0x1010_0000)], to: 1),
                      Self.move(o, [AddressRange(start: 0x1020_0000, end: 0x1030_0000)], to: 1)]
        let extended = WholeProcess.extend(engine, privateRanges: privateRanges)
        #expect(extended.count == 1)
        guard case .moveRanges(let whole) = extended.first else { Issue.record("\(extended)"); return }
        #expect(whole.ranges == privateRanges && whole.to == 1 && whole.bytes == 2 << 20)
    }

    @Test("whole process: moves to two nodes are left as the engine planned them")
    func wholeProcessLeavesSplitMoves() {
        let o = Fixture.process(pid: 21, pages: [[0: 10]], threadNodes: [1], allowed: Fixture.cpus(of: [0, 1]))
        let engine = [Self.move(o, [AddressRange(start: 0x1000_0000, end: 0x1010_0000)], to: 1),
                      Self.move(o, [AddressRange(start: 0x1020_0000, end: 0x1030_0000)], to: 0)]
        #expect(WholeProcess.extend(engine, privateRanges: [AddressRange(start: 0x1000_0000, end: 0x1100_0000)]) == engine)
    }

    @Test("spread: each private range is interleaved in 2 MiB chunks over the busy nodes in turn")
    func spreadInterleaves() {
        let o = Fixture.process(pid: 22, pages: [[0: 50, 1: 50]], threadNodes: [0, 1], allowed: Fixture.cpus(of: [0, 1]))
        let base: UInt64 = 0x4000_0000
        let engine = [Self.move(o, [AddressRange(start: base, end: base + 8 * Self.chunk)], to: 1, rule: .spreadOverActiveNodes)]
        let actions = SpreadInterleave.apply(engine, observation: o,
                                             privateRanges: [AddressRange(start: base, end: base + 8 * Self.chunk)],
                                             topology: Self.t2)
        var byNode: [NodeID: [AddressRange]] = [:]
        for case .moveRanges(let m) in actions { byNode[m.to, default: []] += m.ranges }
        #expect(byNode[0]?.map(\.start) == [0, 2, 4, 6].map { base + $0 * Self.chunk })
        #expect(byNode[1]?.map(\.start) == [1, 3, 5, 7].map { base + $0 * Self.chunk })
        #expect(byNode.values.joined().allSatisfy { $0.end - $0.start == Self.chunk })
        #expect(SpreadInterleave.spreads(actions))
        // The threads already run on both nodes with every CPU allowed: no affinity change.
        #expect(!actions.contains { if case .setAffinity = $0 { true } else { false } })
    }

    @Test("spread: one busy node is no spread; the engine's actions are kept")
    func spreadNeedsTwoActiveNodes() {
        let o = Fixture.process(pid: 23, pages: [[0: 50, 1: 50]], threadNodes: [0], allowed: Fixture.cpus(of: [0, 1]))
        let engine = [Self.move(o, [AddressRange(start: 0x4000_0000, end: 0x4080_0000)], to: 0, rule: .spreadOverActiveNodes)]
        #expect(SpreadInterleave.apply(engine, observation: o, privateRanges: [AddressRange(start: 0x4000_0000, end: 0x4080_0000)],
                                       topology: Self.t2) == engine)
    }

    @Test("shared ranges: a move's range of a shared object becomes that object's policy, the rest stays a move")
    func sharedRangesSplit() {
        var o = Fixture.process(pid: 24, pages: [[0: 10]], threadNodes: [1], allowed: Fixture.cpus(of: [0, 1]),
                                shared: "sysv:0:1:7")
        let shared = o.ranges[0]
        o.ranges.append(RangePlacement(start: 0x1000, end: 0x3000, sharedObject: nil, pagesByNode: [0: 2]))
        let engine = [Self.move(o, [AddressRange(start: shared.start, end: shared.end), AddressRange(start: 0x1000, end: 0x3000)], to: 1)]
        let actions = SharedRanges.split(engine, observation: o)
        #expect(actions.count == 2)
        guard case .setObjectPolicy(let object) = actions.first, case .moveRanges(let rest) = actions.last else {
            Issue.record("\(actions)"); return
        }
        #expect(object.objectKey == "sysv:0:1:7" && object.ranges == [AddressRange(start: shared.start, end: shared.end)])
        #expect(object.reason.rule == .sharedObjectPolicy && object.policy == .preferred)
        #expect(rest.ranges == [AddressRange(start: 0x1000, end: 0x3000)])
    }

    @Test("byte counts read as the CLI printed them (printf's %.1f)")
    func byteCounts() {
        #expect(ByteCount.text(512) == "512 B")
        #expect(ByteCount.text(1536) == "1.5 KiB")
        #expect(ByteCount.text(200 << 20) == "200.0 MiB")
        #expect(ByteCount.text(UInt64(1.25 * Double(1 << 30))) == "1.2 GiB")  // a tie, to even, as glibc's printf
        #expect(ByteCount.text((1 << 30) - 1) == "1024.0 MiB")
    }
}
