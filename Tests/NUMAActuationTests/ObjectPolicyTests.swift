// A shared object's policy set through the actuator over the recording
// kernel: the pages already resident move with it (the lab checks the real
// mbind on shm-group and a shared anonymous mapping).
@testable import NUMAActuation
import NUMAModel
import NUMAProc
import Testing

@Suite("Shared object policy over a recording kernel")
struct ObjectPolicyTests {
    /// pid 10 maps a 64-page /dev/shm file, every page resident on node 0.
    static func kernelWithObject() -> (RecordingKernel, SetObjectPolicy) {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 0)   // our own address space, where the object is mapped
        kernel.addProcess(pid: 10)
        let mapping = Mapping(start: 0x10000, end: 0x10000 + 64 * 4096, shared: true, device: "00:01", inode: 5,
                              path: "/dev/shm/segment")
        kernel.addPages(pid: 0, start: RecordingKernel.objectBase, count: 64, node: 0)
        kernel.state.withLock { s in
            s.maps[10] = [mapping]
            s.objectsOpen = true
        }
        let action = SetObjectPolicy(objectKey: "shmem:00:01:5", via: kernel.identity(10),
                                     ranges: [AddressRange(start: mapping.start, end: mapping.end)],
                                     policy: .preferred, nodes: [1], moveExisting: true, bytes: 64 * 4096,
                                     reason: testReason)
        return (kernel, action)
    }

    @Test("a move that fits the budget is one mbind with MPOL_MF_MOVE_ALL: every resident page moves, no move_pages")
    func mbindMovesTheResidentPages() {
        let (kernel, action) = Self.kernelWithObject()
        let record = LinuxActuator(kernel: kernel, options: options(kernel)).perform(.setObjectPolicy(action))
        #expect(record.outcome.status == .done, "\(record.outcome)")
        #expect(record.outcome.pagesMoved == 64, "\(record.outcome)")
        #expect(kernel.nodes(of: 0) == [1: 64])
        let changes = kernel.changes
        #expect(changes.filter { $0.hasPrefix("mbind") } == ["mbind prefer:1 MPOL_MF_MOVE_ALL"], "\(changes)")
        #expect(!changes.contains { $0.hasPrefix("move_pages") }, "\(changes)")
    }

    /// Security review 6.1: the intent line carried no old policy (it was
    /// read only once the first window was open), so an mbind cut short by
    /// kill -9 left an object that `restore` skipped.
    @Test("the intent carries the object's old policy: an act cut short by a crash is restored from it")
    func intentCarriesTheOldPolicy() throws {
        let (kernel, action) = Self.kernelWithObject()
        let old = MemoryPolicySpec(mode: .interleave, nodes: [0, 1])
        kernel.state.withLock { $0.objectPolicy = old }
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel))
        let replaced = try #require(actuator.prepare(.setObjectPolicy(action)), "no old policy in the intent")
        #expect(replaced.objectPolicy == old)
        // The intent on disk, the mbind done, then kill -9: no outcome line.
        let journal = temporaryJournal()
        try journal.append(JournalEntry(id: "crash-0", phase: .intent, time: 0, by: "test",
                                        action: .setObjectPolicy(action), replaced: replaced))
        _ = actuator.perform(.setObjectPolicy(action))
        #expect(kernel.state.withLock { $0.objectPolicy } == MemoryPolicySpec(mode: .preferred, nodes: [1]))
        let results = try Restorer(kernel: kernel, journal: journal, selfPID: 99, by: "test").restore()
        #expect(results.map(\.status) == [.restored], "\(results)")
        #expect(kernel.state.withLock { $0.objectPolicy } == old)
    }

    /// Seen in the lab: a PostgreSQL backend the plan went through had
    /// disconnected by the act; the failure cost the group its cool-down and
    /// the buffers were never interleaved while the clients ran.
    @Test("the process an object is reached through exits before the open: an exit, not a failure; alive, a failure")
    func viaProcessExited() {
        for exits in [true, false] {
            let (kernel, action) = Self.kernelWithObject()
            kernel.state.withLock { $0.objectEntryGone = true; $0.exitsOnObjectOpen = exits }
            let record = LinuxActuator(kernel: kernel, options: options(kernel)).perform(.setObjectPolicy(action))
            #expect(record.outcome.status == (exits ? .exited : .failed), "\(record.outcome)")
            #expect(kernel.nodes(of: 0) == [0: 64], "nothing moved")
        }
    }

    @Test("a move bigger than the budget: mbind sets the policy, move_pages moves the pages in batches")
    func overBudgetGoesByMovePages() {
        let (kernel, action) = Self.kernelWithObject()
        let record = LinuxActuator(kernel: kernel, options: options(kernel, rate: 16 * 4096))
            .perform(.setObjectPolicy(action))
        #expect(record.outcome.pagesMoved == 64, "\(record.outcome)")
        #expect(kernel.nodes(of: 0) == [1: 64])
        let changes = kernel.changes
        #expect(changes.filter { $0.hasPrefix("mbind") } == ["mbind prefer:1"], "\(changes)")
        #expect(changes.filter { $0.hasPrefix("move_pages") }.count >= 2, "\(changes)")
    }
}
