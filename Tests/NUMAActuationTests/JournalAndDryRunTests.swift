import Foundation
import NUMAActuation
import NUMAModel
import NUMAPrivileges
import NUMAProc
import Testing

func temporaryJournal() -> Journal {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nb-journal-\(UUID().uuidString)")
    return Journal.inDirectory(folder.path)
}

@Suite("Journal, restore, dry run, exit mid-move, capabilities")
struct JournalAndDryRunTests {
    @Test("the journal holds intent and outcome with the replaced affinity; restore puts it back once")
    func journalReplayAndRestore() throws {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10, threads: [10, 11], cpus: CPUSet([0, 1, 2, 3]))
        let journal = temporaryJournal()
        let runner = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: options(kernel)), journal: journal, by: "test")
        let action = Action.setAffinity(SetAffinity(process: kernel.identity(10), cpus: CPUSet([2, 3]), nodes: [1],
                                                    reason: testReason))
        _ = runner.run([action])
        let entries = try journal.read().entries
        #expect(entries.map(\.phase) == [.intent, .outcome])
        #expect(entries[0].replaced?.affinity == [ThreadAffinity(tid: 10, cpus: CPUSet([0, 1, 2, 3])),
                                                  ThreadAffinity(tid: 11, cpus: CPUSet([0, 1, 2, 3]))])
        #expect(journal.ownAffinity(of: kernel.identity(10)) == CPUSet([2, 3]))

        let restorer = Restorer(kernel: kernel, journal: journal, selfPID: 99, by: "test")
        let results = try restorer.restore(pid: 10)
        #expect(results.map(\.status) == [.restored])
        #expect(kernel.state.withLock { $0.affinity[10] == CPUSet([0, 1, 2, 3]) && $0.affinity[11] == CPUSet([0, 1, 2, 3]) })
        #expect(try restorer.restore(pid: 10).isEmpty, "a second restore must do nothing")
        #expect(journal.ownAffinity(of: kernel.identity(10)) == nil)
    }

    @Test("a torn last line (a crash mid-write) is skipped and counted")
    func tornLine() throws {
        let journal = temporaryJournal()
        try journal.append(JournalEntry(id: "a", phase: .intent, time: 1, by: "test"))
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"id\":\"b\",\"pha".utf8))
        try handle.close()
        let (entries, damaged) = try journal.read()
        #expect(entries.map(\.id) == ["a"])
        #expect(damaged == 1)
    }

    @Test("the dry-run actuator makes no state-changing call for any kind of action")
    func dryRunChangesNothing() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10, threads: [10, 11])
        kernel.addPages(pid: 10, start: 0x10000, count: 50, node: 0)
        let identity = kernel.identity(10)
        let actions: [Action] = [
            .setAffinity(SetAffinity(process: identity, cpus: CPUSet([2]), nodes: [1], reason: testReason)),
            .movePages(MovePages(process: identity, from: [0], to: 1, bytes: 1, reason: testReason)),
            .moveRanges(MoveRanges(process: identity, ranges: [AddressRange(start: 0x10000, end: 0x20000)], to: 1,
                                   bytes: 1, reason: testReason)),
            .setObjectPolicy(SetObjectPolicy(objectKey: "anonShared:00:01:5", via: identity,
                                             ranges: [AddressRange(start: 0x10000, end: 0x20000)], policy: .preferred,
                                             nodes: [1], moveExisting: true, bytes: 1, reason: testReason)),
        ]
        let records = PlanRunner(actuator: DryRunActuator(kernel: kernel, options: options(kernel)), journal: nil, by: "test")
            .run(actions)
        #expect(records.allSatisfy { $0.outcome.status == .wouldDo }, "\(records.map(\.outcome))")
        #expect(records[1].outcome.summary.hasPrefix("would move 50 pages"))
        #expect(kernel.changes.isEmpty, "dry run changed: \(kernel.changes)")
        #expect(kernel.nodes(of: 10) == [0: 50])
    }

    @Test("a process that exits mid-move: outcome exited, pages moved before counted, journal consistent")
    func exitMidMove() throws {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.addPages(pid: 10, start: 0x10000, count: 500, node: 0)
        kernel.state.withLock { $0.exitAfterMoves[10] = 2 }
        let journal = temporaryJournal()
        let identity = kernel.identity(10)
        let actions: [Action] = [
            .moveRanges(MoveRanges(process: identity, ranges: [AddressRange(start: 0x10000, end: 0x10000 + 500 * 4096)],
                                   to: 1, bytes: 500 * 4096, reason: testReason)),
            .setAffinity(SetAffinity(process: identity, cpus: CPUSet([2]), nodes: [1], reason: testReason)),
        ]
        let runner = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: options(kernel, rate: 100 * 4096)),
                                journal: journal, by: "test")
        let records = runner.run(actions)
        #expect(records.map(\.outcome.status) == [.exited, .exited])
        #expect(records[0].outcome.pagesMoved == 200)
        let entries = try journal.read().entries
        #expect(entries.map(\.phase) == [.intent, .outcome], "the skipped action is not journalled as begun")
        #expect(entries[1].outcome?.status == .exited)
    }

    @Test("EINVAL from a process past exit_mm (PF_EXITING) is an exit; from a live one, a failure")
    func memoryGoneWhileExiting() {
        for exiting in [true, false] {
            let kernel = RecordingKernel()
            kernel.addProcess(pid: 10)
            kernel.addPages(pid: 10, start: 0x10000, count: 50, node: 0)
            kernel.state.withLock { s in
                s.memoryGone.insert(10)
                s.processes[10]?.isExiting = exiting
            }
            let action = Action.moveRanges(MoveRanges(process: kernel.identity(10),
                                                      ranges: [AddressRange(start: 0x10000, end: 0x10000 + 50 * 4096)],
                                                      to: 1, bytes: 50 * 4096, reason: testReason))
            let runner = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: options(kernel, rate: 100 * 4096)),
                                    journal: nil, by: "test")
            let outcome = runner.run([action])[0].outcome
            #expect(outcome.status == (exiting ? .exited : .failed), "exiting \(exiting): \(outcome.summary)")
        }
    }

    @Test("a process already exiting (PF_EXITING) when the act begins: exited, nothing changed")
    func exitingAtTheGuard() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        kernel.state.withLock { $0.processes[10]?.isExiting = true }
        let action = Action.setAffinity(SetAffinity(process: kernel.identity(10), cpus: CPUSet([2]), nodes: [1],
                                                    reason: testReason))
        let outcome = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: options(kernel)), journal: nil, by: "test")
            .run([action])[0].outcome
        #expect(outcome.status == .exited, "\(outcome.summary)")
        #expect(kernel.changes.isEmpty)
    }

    @Test("a process gone between the plan and the act: exited, not failed")
    func goneBeforeTheAct() {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10)
        let identity = kernel.identity(10)
        kernel.state.withLock { _ = $0.processes.removeValue(forKey: 10) }
        let action = Action.setAffinity(SetAffinity(process: identity, cpus: CPUSet([2]), nodes: [1], reason: testReason))
        let outcome = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: options(kernel)), journal: nil, by: "test")
            .run([action])[0].outcome
        #expect(outcome.status == .exited, "\(outcome.summary)")
        #expect(outcome.summary.contains("no process with pid 10"))
        #expect(kernel.changes.isEmpty)
    }

    @Test("another user's process: the missing capability is named; one's own needs none")
    func capabilityShortfalls() {
        let none = Privileges(capabilities: [], uid: 1000)
        let identity = ProcessIdentity(pid: 10, startTime: 1)
        let move = Action.movePages(MovePages(process: identity, from: [0], to: 1, bytes: 1, reason: testReason))
        let pin = Action.setAffinity(SetAffinity(process: identity, cpus: CPUSet([2]), nodes: [1], reason: testReason))
        let object = Action.setObjectPolicy(SetObjectPolicy(objectKey: "anonShared:00:01:5", via: identity, ranges: [],
                                                            policy: .preferred, nodes: [1], moveExisting: true, bytes: 1,
                                                            reason: testReason))
        let others = [Int32(10): TargetOwner(pid: 10, comm: "postgres", uids: [106, 106, 106, 106])]
        let own = [Int32(10): TargetOwner(pid: 10, comm: "mine", uids: [1000, 1000, 1000, 1000], memsAllowed: [0, 1])]
        #expect(none.shortfalls(for: move, owners: others).first?.capabilities == [.sysPtrace])
        #expect(none.shortfalls(for: pin, owners: others).first?.capabilities == [.sysNice])
        #expect(none.shortfalls(for: move, owners: own).isEmpty)
        #expect(none.shortfalls(for: pin, owners: own).isEmpty)
        let objectNeeds = none.shortfalls(for: object, owners: own).flatMap(\.capabilities)
        #expect(objectNeeds.contains(.sysNice) && objectNeeds.contains(.checkpointRestore))
        #expect(!objectNeeds.contains(.dacReadSearch), "one's own map_files folder is searchable")
        // Another user's map_files folder is mode 0500: the checkpoint
        // capability alone gets EACCES (seen with PostgreSQL's backends).
        let restoreOnly = Privileges(capabilities: [.sysNice, .checkpointRestore], uid: 0)
        let othersNeeds = restoreOnly.shortfalls(for: object, owners: others)
        #expect(othersNeeds.map(\.capabilities) == [[.dacReadSearch]])
        #expect(othersNeeds.first?.description.contains("CAP_DAC_READ_SEARCH") == true)
        #expect(none.shortfalls(for: move, owners: others)[0].description.contains("CAP_SYS_PTRACE"))
        let root = Privileges(capabilities: Capability.allCases, uid: 0)
        #expect(root.shortfalls(for: object, owners: others).isEmpty)
    }

    @Test("the cgroup v2 mount is found in mountinfo, wherever it is")
    func cgroupMount() {
        let text = """
            25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw
            35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
            """
        #expect(CgroupMount.v2Root(mountinfo: text) == "/sys/fs/cgroup/unified")
        #expect(CgroupMount.v2Root(mountinfo: "25 30 0:23 / /sys rw - sysfs sysfs rw") == nil)
    }
}
