import Foundation
import Glibc
import NUMAActuation
import NUMAModel
import NUMAProc
import Testing

/// The journal as hostile folders and crashes leave it (issue 15, points 4
/// and 5; security review §3.1, §3.5, §4.8).
@Suite("Journal: torn lines, symlinks, ids")
struct JournalHardeningTests {
    @Test("root's journal folder is /var/lib/numabalance whatever NUMABALANCE_STATE_DIR says; others may choose")
    func stateFolderVariableNotForRoot() {
        let environment = ["NUMABALANCE_STATE_DIR": "/tmp/numabalance", "HOME": "/home/u"]
        #expect(Journal.defaultDirectory(environment: environment, isRoot: true) == "/var/lib/numabalance")
        #expect(Journal.defaultDirectory(environment: environment, isRoot: false) == "/tmp/numabalance")
        #expect(Journal.defaultDirectory(environment: ["HOME": "/home/u"], isRoot: false) == "/home/u/.local/state/numabalance")
    }

    @Test("an entry appended after a torn line starts on its own line: it is read, and restore undoes an act once")
    func appendAfterTornLine() throws {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10, threads: [10], cpus: CPUSet([0, 1, 2, 3]))
        let journal = temporaryJournal()
        let runner = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: options(kernel)), journal: journal, by: "test")
        _ = runner.run([.setAffinity(SetAffinity(process: kernel.identity(10), cpus: CPUSet([2, 3]), nodes: [1],
                                                 reason: testReason))])
        // A crash mid-write: half an intent, no newline.
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"id\":\"a2\",\"phase\":\"inte".utf8))
        try handle.close()

        let restorer = Restorer(kernel: kernel, journal: journal, selfPID: 99, by: "test")
        #expect(try restorer.restore(pid: 10).map(\.status) == [.restored])
        let (entries, damaged) = try journal.read()
        #expect(damaged == 1, "the torn fragment alone is damaged")
        #expect(entries.contains { $0.restores != nil }, "the restore marker was glued to the fragment and lost")
        #expect(try restorer.restore(pid: 10).isEmpty, "a second restore undid the act again")
    }

    @Test("a journal that is a symbolic link is refused, and its target left as it was")
    func symlinkRefused() throws {
        let journal = temporaryJournal()
        let folder = (journal.path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let target = folder + "/precious"
        try "IMPORTANT\n".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: journal.path, withDestinationPath: target)
        #expect(throws: ActuationError.self) {
            try journal.append(JournalEntry(id: "x", phase: .intent, time: 1, by: "test"))
        }
        do {
            try journal.append(JournalEntry(id: "x", phase: .intent, time: 1, by: "test"))
        } catch {
            #expect("\(error)".contains("symbolic link"), "\(error)")
        }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "IMPORTANT\n")
    }

    @Test("a journal in a folder others can write is neither written nor read (restore would replay forged entries)")
    func sharedFolderRefused() throws {
        let journal = temporaryJournal()
        let folder = (journal.path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        chmod(folder, 0o777)
        try "{}\n".write(toFile: journal.path, atomically: false, encoding: .utf8)
        for attempt in ["append", "read"] {
            do {
                if attempt == "append" {
                    try journal.append(JournalEntry(id: "x", phase: .intent, time: 1, by: "test"))
                } else {
                    _ = try journal.read()
                }
                Issue.record("\(attempt) accepted a 0777 folder")
            } catch {
                #expect("\(error)".contains("writable by group or others (mode 777)"), "\(attempt): \(error)")
            }
        }
        chmod(folder, 0o700)
        #expect(throws: Never.self) { _ = try journal.read() }
    }

    @Test("runs started in the same millisecond journal different ids")
    func idsDoNotCollide() throws {
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10, threads: [10], cpus: CPUSet([0, 1, 2, 3]))
        // On tmpfs (fsync costs nothing there), 40 runs take a few
        // milliseconds: ids of milliseconds and pid alone collided.
        let folder = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()) + "/nb-ids-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = Journal.inDirectory(folder)
        let actuator = LinuxActuator(kernel: kernel, options: options(kernel))
        for index in 0..<40 {
            let cpus = index % 2 == 0 ? CPUSet([2, 3]) : CPUSet([0, 1])
            _ = PlanRunner(actuator: actuator, journal: journal, by: "test")
                .run([.setAffinity(SetAffinity(process: kernel.identity(10), cpus: cpus, nodes: [1], reason: testReason))])
        }
        let intents = try journal.read().entries.filter { $0.phase == .intent }.map(\.id)
        #expect(intents.count == 40 && Set(intents).count == 40, "\(intents.count) intents, \(Set(intents).count) ids")
    }
}

/// Issue 15, point 5 (security review 3.7): the journal grew without end
/// and its reader stops at 64 MiB; compaction keeps what restore and a
/// restart need.
@Suite("Journal compaction")
struct JournalCompactionTests {
    static let live = ProcessIdentity(pid: 4242, startTime: 7)
    static let dead = ProcessIdentity(pid: 4343, startTime: 7)

    static func pin(_ who: ProcessIdentity) -> Action {
        .setAffinity(SetAffinity(process: who, cpus: CPUSet([1]), nodes: [0], reason: testReason))
    }

    static func move(_ who: ProcessIdentity) -> Action {
        .moveRanges(MoveRanges(process: who, ranges: [AddressRange(start: 0x1000, end: 0x2000)], to: 1, bytes: 4096,
                               reason: testReason))
    }

    static func act(_ id: String, _ action: Action, time: Double, replaced: Replaced? = nil, outcome: Bool = true)
        -> [JournalEntry]
    {
        let intent = JournalEntry(id: id, phase: .intent, time: time, by: "test", action: action, replaced: replaced)
        guard outcome else { return [intent] }
        return [intent, JournalEntry(id: id, phase: .outcome, time: time, by: "test", action: action, replaced: replaced,
                                     outcome: ActionOutcome(status: .done, summary: "done"))]
    }

    @Test("kept: the last line of recent acts and of old acts restore could undo on a live process; the rest goes")
    func whatIsKept() {
        let now = 100_000.0, old = now - 2 * Journal.keptSeconds
        let was = Replaced(affinity: [ThreadAffinity(tid: 4242, cpus: CPUSet([0, 1]))])
        var entries = Self.act("old-move", Self.move(Self.live), time: old)
        entries += Self.act("old-pin-live", Self.pin(Self.live), time: old, replaced: was)
        entries += Self.act("old-pin-dead", Self.pin(Self.dead), time: old, replaced: was)
        entries += Self.act("old-pin-undone", Self.pin(Self.live), time: old, replaced: was)
        entries.append(JournalEntry(id: "old-pin-undone", phase: .restored, time: old, by: "test", restores: "old-pin-undone"))
        entries += Self.act("recent-move", Self.move(Self.dead), time: now - 60)
        entries += Self.act("cut-short", Self.move(Self.live), time: now - 5, outcome: false)
        let kept = Journal.compacted(entries, now: now) { $0 == Self.live }
        #expect(kept.map { "\($0.id) \($0.phase.rawValue)" }
            == ["old-pin-live outcome", "recent-move outcome", "cut-short intent"])
    }

    @Test("an append past the size cap compacts the file; what restore needs is still there")
    func appendCompacts() throws {
        let path = temporaryJournal().path
        let filler = Journal(path: path, compactAt: .max), journal = Journal(path: path, compactAt: 16 << 10)
        let me = try ProcFS().identity(getpid())
        let was = Replaced(affinity: [ThreadAffinity(tid: me.pid, cpus: CPUSet([0, 1]))])
        for entry in Self.act("pin", Self.pin(me), time: 1000, replaced: was) { try filler.append(entry) }
        var index = 0
        while (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 < 20 << 10 {
            for entry in Self.act("move-\(index)", Self.move(Self.dead), time: 1000) { try filler.append(entry) }
            index += 1
        }
        let before = try journal.read().entries.count
        for entry in Self.act("now", Self.move(me), time: Date().timeIntervalSince1970) { try journal.append(entry) }
        let after = try journal.read()
        #expect(before > 20)
        #expect(after.damaged == 0)
        #expect(after.entries.map(\.id) == ["pin", "now", "now"], "\(after.entries.map(\.id).prefix(10))")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int)
        #expect(size < 4096, "\(size) bytes after compaction")
    }
}
