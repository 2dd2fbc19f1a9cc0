import NUMAModel
import NUMAPlacement
import Testing

/// What the daemon holds back of the engine's actions (Admission), each
/// rule alone: a policy that keeps memory, the journal's cool-down, a
/// policy's own cool-down for threads, a process already at its target.
@Suite("Admission")
struct AdmissionTests {
    static let process = ProcessIdentity(pid: 7, startTime: 1)

    static func facts(migrates: Bool = true, cooldown: Double = 30, own: Double? = nil, actedAtWall: Double? = nil,
                      threadsMovedAt: Double? = nil, alone: Bool = true, locality: Double? = 0.5,
                      cpuRate: Double = 1) -> Admission.Process {
        Admission.Process(policyName: "p", migratesMemory: migrates, cooldownSeconds: cooldown,
                          policyCooldownSeconds: own, actedAtWall: actedAtWall, threadsMovedAt: threadsMovedAt,
                          alone: alone, locality: locality, localityTarget: 0.9, cpuRate: cpuRate)
    }

    static let memory = Action.movePages(MovePages(process: process, from: [0], to: 1, bytes: 1 << 20,
                                                   reason: Reason(rule: .memoryFollowsCPU, summary: "m")))
    static let threads = Action.setAffinity(SetAffinity(process: process, cpus: CPUSet([4]), nodes: [1],
                                                        reason: Reason(rule: .consolidate, summary: "t")))

    static func refusal(_ action: Action, _ facts: Admission.Process, sole: Bool = true) -> String? {
        Admission.refusal(action, process: facts, soleProcess: sole, now: 100, wallNow: 1_000)
    }

    @Test("memory.migrate: false keeps the pages, not the threads")
    func migrateFalse() {
        #expect(Self.refusal(Self.memory, Self.facts(migrates: false))?.contains("memory.migrate: false") == true)
        #expect(Self.refusal(Self.threads, Self.facts(migrates: false)) == nil)
    }

    @Test("an act of an earlier run within the cool-down holds everything back; after it, nothing")
    func journalCooldown() {
        #expect(Self.refusal(Self.threads, Self.facts(actedAtWall: 990))?.hasPrefix("[cool-down] acted on 10 s ago") == true)
        #expect(Self.refusal(Self.threads, Self.facts(actedAtWall: 960)) == nil)
    }

    @Test("a policy's own cool-down holds thread moves back, not memory following them")
    func policyCooldown() {
        let facts = Self.facts(own: 60, threadsMovedAt: 90)
        #expect(Self.refusal(Self.threads, facts)?.contains("policy p: threads moved 10 s ago") == true)
        #expect(Self.refusal(Self.memory, facts) == nil)
        #expect(Self.refusal(Self.threads, Self.facts(own: 5, threadsMovedAt: 90)) == nil)
    }

    @Test("at its locality target a process alone is left; a group's member is not dropped from its group's move")
    func atTarget() {
        #expect(Self.refusal(Self.memory, Self.facts(locality: 0.95))?.contains("at its target") == true)
        #expect(Self.refusal(Self.memory, Self.facts(alone: false, locality: 0.95)) == nil)
        #expect(Self.refusal(Self.memory, Self.facts(locality: 0.95), sole: false) == nil)
        #expect(Self.refusal(Self.memory, Self.facts(locality: 0.5)) == nil)
        // A spread over the nodes its threads were given: one look's locality
        // (its threads caught on one node of two) does not stop it.
        let spread = Action.moveRanges(MoveRanges(process: Self.process, ranges: [], to: 1, bytes: 1 << 20,
                                                  reason: Reason(rule: .spreadOverActiveNodes, summary: "s")))
        #expect(Self.refusal(spread, Self.facts(locality: 1.0)) == nil)
    }

    @Test("a process that barely ran at one of its last two looks keeps its threads and private memory where they are (a postmaster, a supervisor reaping its workers or tearing down); a release goes")
    func idleThreadsStay() {
        // One 10 ms clock tick in a 3 s interval: 0.3 % of a CPU.
        let refusal = Self.refusal(Self.threads, Self.facts(alone: false, locality: nil, cpuRate: 0.0033))
        #expect(refusal == "[idle] used 0.3% of a CPU at one of its last two looks (under 10%): its threads and private memory are left where they are")
        #expect(Self.refusal(Self.threads, Self.facts(alone: false, locality: nil, cpuRate: 0))?.hasPrefix("[idle]") == true)
        #expect(Self.refusal(Self.memory, Self.facts(locality: nil, cpuRate: 0))?.hasPrefix("[idle]") == true,
                "its private memory does not follow a few clock ticks")
        let spread = Action.movePages(MovePages(process: Self.process, from: [0], to: 1, bytes: 1 << 20,
                                                reason: Reason(rule: .spreadOverActiveNodes, summary: "s")))
        #expect(Self.refusal(spread, Self.facts(locality: nil, cpuRate: 0)) == nil, "a move for another reason goes")
        let release = Action.setAffinity(SetAffinity(process: Self.process, cpus: CPUSet([0, 1, 4]), nodes: [0, 1],
                                                     reason: Reason(rule: .release, summary: "r")))
        #expect(Self.refusal(release, Self.facts(locality: nil, cpuRate: 0)) == nil)
        #expect(Self.refusal(Self.threads, Self.facts(cpuRate: Admission.minimumCPURate)) == nil)
        // A supervisor spawning its workers, at a few percent: not busy enough to place.
        #expect(Self.refusal(Self.threads, Self.facts(alone: false, locality: nil, cpuRate: 0.05))?.hasPrefix("[idle]") == true)
        #expect(Self.refusal(Self.threads, Self.facts(cpuRate: 0.25)) == nil)
    }

    @Test("a look sooner than a second: its CPU counted over a second, so one clock tick is not 2 % busy")
    func busyRateOverASecondAtLeast() {
        func look(cpu: Double, seconds: Double) -> Observation {
            Observation(identity: Self.process, comm: "w", time: 1, intervalSeconds: seconds, pages: .empty,
                        threads: [ThreadActivity(tid: 10, cpuSeconds: cpu, lastCPU: 0, node: NodeID(0), state: "S")],
                        allowedCPUs: CPUSet([0]), allowedNodes: [], rssBytes: 1, eligibleBytes: 1)
        }
        // One tick in 0.3 s: 3.3 % by the interval, 1 % over a second: idle.
        #expect(Admission.busyRate(look(cpu: 0.01, seconds: 0.3)) < Admission.minimumCPURate)
        // A busy process looked at 0.3 s apart: 30 % over a second.
        #expect(abs(Admission.busyRate(look(cpu: 0.3, seconds: 0.3)) - 0.3) < 1e-9)
        // Over longer intervals, the plain rate.
        #expect(abs(Admission.busyRate(look(cpu: 0.1, seconds: 5)) - 0.02) < 1e-9)
    }
}
