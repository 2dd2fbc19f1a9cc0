import Foundation
import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct ProcFSTests {
    let proc = ProcFS(root: Fixture.path("proc"))

    @Test func readsAPidsFile() throws {
        #expect(try proc.read(123, "maps") == (try Fixture.text("proc/123/maps")))
        #expect(try proc.read(123, "task/124/stat").hasPrefix("124 (bgworker"))
        #expect(ProcFS().root == "/proc")
        #expect(proc.path(42, "task/43/stat") == Fixture.path("proc") + "/42/task/43/stat")
    }

    @Test func missingProcessIsNoSuchProcess() throws {
        let error = #expect(throws: ProcReadError.self) { _ = try proc.read(999_999, "maps") }
        #expect(error == .noSuchProcess(pid: 999_999))
        #expect(error?.description.contains("999999") == true)
        #expect(throws: ProcReadError.noSuchProcess(pid: 999_999)) { _ = try proc.maps(999_999) }
        #expect(throws: ProcReadError.noSuchProcess(pid: 999_999)) { _ = try proc.threadIDs(999_999) }
        #expect(throws: ProcReadError.noSuchProcess(pid: 999_999)) { _ = try proc.identity(999_999) }
    }

    @Test func missingFileOfALiveProcessIsIO() throws {
        // No CONFIG_SCHED_DEBUG: the process is there, its sched file is not.
        let path = Fixture.path("proc") + "/789/sched"
        #expect(throws: ProcReadError.io(path: path, errno: ENOENT)) { _ = try proc.sched(789) }
        let error = #expect(throws: ProcReadError.self) { _ = try proc.smapsRollup(456) }
        #expect(error?.description.contains("456/smaps_rollup") == true)
        #expect(error?.description.contains("ENOENT") == true)
    }

    @Test func aFolderIsNotAFile() {
        #expect(throws: ProcReadError.io(path: Fixture.path("proc") + "/123/task", errno: EISDIR)) {
            _ = try proc.read(123, "task")
        }
    }

    @Test func errnoMapping() {
        #expect(proc.readError(5, path: "p", errno: EACCES) == .permissionDenied(pid: 5, path: "p"))
        #expect(proc.readError(5, path: "p", errno: EPERM) == .permissionDenied(pid: 5, path: "p"))
        #expect(proc.readError(5, path: "p", errno: ESRCH) == .noSuchProcess(pid: 5))
        #expect(proc.readError(5, path: "p", errno: ENOENT) == .noSuchProcess(pid: 5))
        #expect(proc.readError(123, path: "p", errno: ENOENT) == .io(path: "p", errno: ENOENT))
        #expect(proc.readError(123, path: "p", errno: EIO) == .io(path: "p", errno: EIO))
        #expect(ProcReadError.permissionDenied(pid: 5, path: "/proc/5/maps").description
            == "permission denied reading /proc/5/maps of pid 5")
        #expect(ProcReadError.io(path: "/x", errno: 4242).description == "cannot read /x: errno 4242")
        let parse = ProcParseError(source: "/proc/5/maps", line: 2, reason: "bad inode \"x\"")
        #expect(ProcReadError.parse(parse).description == "/proc/5/maps:2: bad inode \"x\"")
        #expect(ProcParseError(source: "status", line: nil, reason: "empty").description == "status: empty")
    }

    @Test func listsProcessesAndThreads() throws {
        #expect(proc.pids() == [123, 456, 789])
        #expect(ProcFS(root: "/nonexistent-proc-root").pids().isEmpty)
        #expect(proc.exists(123) && !proc.exists(999_999))
        #expect(try proc.threadIDs(123) == [123, 124])
    }

    @Test func typedReadersOnTheFixtureTree() throws {
        #expect(try proc.maps(123).count == 28)
        #expect(try proc.status(123).cpusAllowed == CPUSet([0, 1, 2, 3]))
        #expect(try proc.stat(123).comm == "postgres")
        #expect(try proc.taskStat(123, 124).processor == 3)
        #expect(try proc.numaMaps(123).count == 28)
        #expect(try proc.smapsRollup(123).anonHugePagesBytes == 2 << 20)
        #expect(try proc.sched(123).preferredNode == 1)
        #expect(try proc.sched(123, tid: 124).currentNode == 1)
        #expect(try proc.zoneWatermarks()[1]?.highPages == 12000)
        #expect(try proc.cpuTimes().count == 4)
        #expect(try proc.identity(123) == ProcessIdentity(pid: 123, startTime: 987_654))
        #expect(try proc.cgroupPath(123) == "/system.slice/postgresql.service")
        let exact = exactPagesByNode(maps: try proc.maps(123), numaMaps: try proc.numaMaps(123))
        #expect(exact == [0: 35047, 1: 50869])
    }

    @Test func kernelWorker() throws {
        #expect(try proc.maps(456).isEmpty)
        #expect(try proc.numaMaps(456).isEmpty)
        #expect(try proc.status(456).isKernelThread)
        #expect(try proc.status(456).vmRSSBytes == nil)
        #expect(try proc.stat(456).isKernelThread)
        #expect(try proc.stat(456).state == "I")
    }

    @Test func truncatedFileOfALiveProcessIsAParseError() throws {
        let error = #expect(throws: ProcReadError.self) { _ = try proc.status(789) }
        guard case .parse(let parse) = error else {
            Issue.record("expected .parse, got \(String(describing: error))")
            return
        }
        #expect(parse.source == Fixture.path("proc") + "/789/status")
        #expect(throws: ProcReadError.self) { _ = try proc.stat(789) }
    }

    @Test func parseErrorOfAProcessThatExitedIsNoSuchProcess() throws {
        let root = NSTemporaryDirectory() + "numaproc-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: root + "/5", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "Name:\tdying\nState:\tR".write(toFile: root + "/5/status", atomically: true, encoding: .utf8)
        let dying = ProcFS(root: root)
        // The process exits between the read and the parse: a short read, then no /proc/5.
        let error = #expect(throws: ProcReadError.self) {
            _ = try dying.parsed(5, "status") { text, source throws(ProcParseError) -> ProcessStatus in
                try? FileManager.default.removeItem(atPath: root + "/5")
                return try Status.parse(text, source: source)
            }
        }
        #expect(error == .noSuchProcess(pid: 5))
    }

    @Test func readsALargeFileWhole() throws {
        let root = NSTemporaryDirectory() + "numaproc-big-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: root + "/7", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Several read(2) chunks' worth of maps lines.
        let lines = (1...3000).map { (i: Int) -> String in
            let start = String(0x10000 * i, radix: 16)
            let end = String(0x10000 * i + 0x1000, radix: 16)
            return "\(start)-\(end) rw-p 00000000 00:00 0 "
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: root + "/7/maps", atomically: true, encoding: .utf8)
        let maps = try ProcFS(root: root).maps(7)
        #expect(maps.count == 3000)
        #expect(maps.last?.start == 0x10000 * 3000)
    }
}

/// The real /proc of this host: always there on Linux.
@Suite struct LiveProcTests {
    let proc = ProcFS()
    let me = getpid()

    @Test func ownProcess() throws {
        let status = try proc.status(me)
        #expect(status.pid == me && status.tgid == me)
        #expect(!status.isKernelThread)
        #expect((status.vmRSSBytes ?? 0) > 0)
        let stat = try proc.stat(me)
        #expect(stat.pid == me && !stat.isKernelThread)
        #expect(try proc.identity(me).startTime == stat.startTimeTicks)
        #expect(try proc.threadIDs(me).contains(me))
        #expect(proc.pids().contains(me))
        #expect(try proc.taskStat(me, me).pid == me)
    }

    @Test func ownMemory() throws {
        let maps = try proc.maps(me)
        #expect(maps.contains { $0.path == "[stack]" })
        #expect(maps.contains { $0.isEligibleForSampling })
        let rollup = try proc.smapsRollup(me)
        #expect(rollup.rssBytes > 0)
        let numa = try proc.numaMaps(me)
        #expect(!numa.isEmpty)
        let exact = exactPagesByNode(maps: try proc.maps(me), numaMaps: numa)
        #expect(exact.values.reduce(0, +) > 0)
    }

    @Test func systemFiles() throws {
        #expect(try !proc.zoneWatermarks().isEmpty)
        #expect(try proc.cpuTimes().count >= 1)
        #expect(throws: ProcReadError.self) { _ = try proc.readSystem("no-such-file") }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/2/status"), "no kthreadd visible"))
    func kernelThreadd() throws {
        #expect(try proc.status(2).isKernelThread)
        #expect(try proc.stat(2).isKernelThread)
        #expect(try proc.maps(2).isEmpty)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/sched"), "no CONFIG_SCHED_DEBUG"))
    func ownSched() throws {
        // Judged against the raw file: the numa lines are there exactly when
        // the parse says so, and a current_node line gives a node.
        let text = try String(contentsOfFile: "/proc/self/sched", encoding: .utf8)
        let sched = try proc.sched(me)
        #expect(sched.hasNUMALines == (text.contains("mm->numa_scan_seq") || text.contains("current_node=")))
        // current_node=N as the file prints it, and one entry per numa_faults line.
        let lines = text.split(separator: "\n")
        if let line = lines.first(where: { $0.hasPrefix("current_node=") }),
           let node = Int(line.dropFirst("current_node=".count).prefix { $0.isNumber }) {
            #expect(sched.currentNode == NodeID(node), "\(line)")
        }
        #expect(sched.nodeFaults.count == lines.filter { $0.hasPrefix("numa_faults node=") }.count)
        #expect(try proc.sched(me, tid: me).hasNUMALines == sched.hasNUMALines)
    }
}
