import NUMAModel
@testable import NUMAPlacement
import Testing

/// Real server shapes (issue 14), pins and load: who owns an affinity, and
/// the load the engine did not see before.
extension RealShapeTests {
    // MARK: pins judged by CPU

    /// Two threads, one on each node, memory all on node 0; no owner given,
    /// so the engine judges it by the one rule.
    func spanning(allowed: CPUSet, threadPins: [CPUSet] = [], cpuset: CPUSet? = nil, time: Double) -> Observation {
        var o = Fixture.process(pid: 20, pages: [[0: 40], [0: 40]], threadNodes: [0, 1], allowed: allowed,
                                cpuset: cpuset, owner: nil, time: time)
        o.threadAffinities = threadPins
        return o
    }

    func affinityActions(_ observations: (Double) -> Observation, topology: Topology = Fixture.topology(nodes: 2))
        -> [Action]
    {
        var engine = PlacementEngine()
        var acts: [Action] = []
        for round in 1...4 {
            let plan = engine.plan(topology: topology, observations: [observations(Double(round))], now: Double(round))
            acts += plan.actions.filter {
                switch $0 {
                case .setAffinity, .swap: true
                default: false
                }
            }
        }
        return acts
    }

    @Test("taskset -c 0,4 (one CPU on each node) is the user's pin: never widened or gathered")
    func cpuLevelPinSpanningNodes() {
        let pin = CPUSet([0, 4])
        #expect(PinOwnership.owner(affinities: [pin], cpuset: nil, own: nil, topology: Fixture.topology(nodes: 2)) == .user)
        let acts = affinityActions { spanning(allowed: pin, time: $0) }
        #expect(acts.isEmpty, "the user's CPUs 0,4 were changed: \(acts)")
    }

    @Test("per-thread pins (libvirt's vCPU pins): the process is the user's, whatever the main thread's affinity")
    func perThreadPins() {
        let topology = Fixture.topology(nodes: 2)
        #expect(PinOwnership.owner(affinities: [all, CPUSet([1]), CPUSet([5])], cpuset: nil, own: nil,
                                   topology: topology) == .user)
        let acts = affinityActions { spanning(allowed: all, threadPins: [CPUSet([1]), CPUSet([5])], time: $0) }
        #expect(acts.isEmpty, "per-thread pins overwritten: \(acts)")
    }

    @Test("a cpuset handed out CPU by CPU (Kubernetes' static CPU manager): its CPUs are kept")
    func cpuLevelCpuset() {
        let exclusive = CPUSet([2, 3, 4, 5])
        let topology = Fixture.topology(nodes: 2)
        #expect(PinOwnership.owner(affinities: [exclusive], cpuset: exclusive, own: nil, topology: topology) == .user)
        // A cpuset of whole nodes is a container's node assignment: the engine places within it.
        #expect(PinOwnership.owner(affinities: [node1], cpuset: node1, own: nil, topology: topology) == .unrestricted)
        let acts = affinityActions { spanning(allowed: exclusive, cpuset: exclusive, time: $0) }
        #expect(acts.isEmpty, "the pod's exclusive CPUs were narrowed: \(acts)")
    }

    @Test("isolated CPUs (isolcpus) are never given; the housekeeping set counts as unrestricted")
    func isolatedCPUs() {
        var topology = Fixture.topology(nodes: 2)
        topology.isolatedCPUs = CPUSet([3, 7])
        let housekeeping = CPUSet([0, 1, 2, 4, 5, 6])
        #expect(PinOwnership.owner(affinities: [housekeeping], cpuset: nil, own: nil, topology: topology) == .unrestricted)
        let acts = affinityActions({ spanning(allowed: housekeeping, time: $0) }, topology: topology)
        let given = acts.compactMap { if case .setAffinity(let a) = $0 { a.cpus } else { nil } }
        #expect(!given.isEmpty, "the unrestricted process was not placed: \(acts)")
        #expect(given.allSatisfy { !$0.contains(3) && !$0.contains(7) && !$0.isEmpty }, "\(given)")
    }

    @Test("numabalance's own pin is its own, also as a narrowed cpuset left it; a changed one is the user's")
    func ownPin() {
        let topology = Fixture.topology(nodes: 2)
        #expect(PinOwnership.owner(affinities: [node0], cpuset: nil, own: node0, topology: topology) == .numabalance)
        // The cgroup's cpuset shrank to CPUs 0-1: the kernel cut the pin to match.
        let narrowed = CPUSet([0, 1])
        #expect(PinOwnership.owner(affinities: [narrowed], cpuset: CPUSet([0, 1, 4, 5]), own: node0,
                                   topology: topology) == .numabalance)
        // The user re-pinned it after numabalance: theirs now.
        #expect(PinOwnership.owner(affinities: [CPUSet([2])], cpuset: nil, own: node0, topology: topology) == .user)
        #expect(PinOwnership.owner(affinities: [all], cpuset: nil, own: node0, topology: topology) == .unrestricted)
    }

    // MARK: load the engine never saw

    @Test("64 threads at 3 % each are two CPUs of work: the process is placed, not invisible")
    func manyLightThreads() {
        let topology = Fixture.topology(nodes: 2)
        var engine = PlacementEngine()
        var placed = false
        for round in 1...3 {
            var o = Fixture.process(pid: 30, pages: [[0: 40], [0: 40]], threadNodes: [1], allowed: all,
                                    time: Double(round))
            o.threads = (0..<64).map { i in
                ThreadActivity(tid: 3000 + Int32(i), cpuSeconds: 0.03, lastCPU: 4 + i % 4, node: 1, state: "S")
            }
            let plan = engine.plan(topology: topology, observations: [o], now: Double(round))
            placed = placed || !plan.actions.isEmpty
        }
        #expect(placed, "64 threads at 3 % were taken for no load: nothing placed")
        #expect(Capacity.lightLoad(64 * 30, besideBusy: false) == 1920)
        // An idle launcher beside two busy workers still fits two CPUs.
        #expect(Capacity.lightLoad(10, besideBusy: true) == 0)
    }

    @Test("a node busy with load the engine was not given (a pinned service) takes no threads; memory follows instead")
    func unseenLoadCounts() {
        let topology = Fixture.topology(nodes: 2)
        var engine = PlacementEngine()
        var threadMoves: [SetAffinity] = []
        var memoryToNode1 = false
        for round in 1...3 {
            let o = Fixture.process(pid: 40, pages: [[0: 40], [0: 40]], threadNodes: [1, 1], allowed: all,
                                    time: Double(round))
            // Node 0's four CPUs are all busy with processes under a policy.
            let plan = engine.plan(topology: topology, observations: [o], now: Double(round),
                                   nodeBusy: [0: 4000, 1: 2000])
            threadMoves += Fixture.setAffinities(plan).filter { $0.cpus.contains(0) }
            memoryToNode1 = memoryToNode1 || Fixture.memoryMoves(plan).contains {
                switch $0 {
                case .movePages(let m): m.to == 1
                case .moveRanges(let m): m.to == 1
                default: false
                }
            }
        }
        #expect(threadMoves.isEmpty, "threads sent onto a full node: \(threadMoves)")
        #expect(memoryToNode1, "the memory did not follow the threads to node 1")
    }
}
