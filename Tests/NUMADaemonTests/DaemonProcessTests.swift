// The built `numabalance run` as systemd would run it, on this host: the
// notify protocol seen on a socket the test listens on, status over the
// control socket, SIGHUP with a broken config, SIGTERM, the lock. Dry run,
// so nothing on the host is changed.
import Foundation
import Glibc
import NUMAActuation
import NUMAModel
import NUMAProc
import Testing

@Suite("numabalance run, as a process", .serialized)
struct DaemonProcessTests {
    /// The numabalance binary next to the test bundle.
    static let binary: String = {
        var folder = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).deletingLastPathComponent()
        while folder.path != "/", !FileManager.default.fileExists(atPath: folder.appendingPathComponent("numabalance").path) {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("numabalance").path
    }()

    struct Daemon {
        let process: Process
        let folder: String
        let notify: Int32
        let log: String

        /// The next datagram on the notify socket.
        func nextMessage() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(notify, $0.baseAddress, $0.count, 0) }
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }

        /// Datagrams until one contains `text` (10 s at most).
        func waitFor(_ text: String) -> [String] {
            var seen: [String] = []
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                guard let message = nextMessage() else { continue }
                seen.append(message)
                if message.contains(text) { break }
            }
            return seen
        }

        var logText: String { SystemTestFiles.text(log) ?? "" }
    }

    /// `noProcessEvents`: started without CAP_NET_ADMIN (when root), so it
    /// lists /proc each second instead of following the host's forks: its
    /// loop's timing does not depend on what else runs on the host.
    static func start(config extra: String = "", folder: String = SystemTestFiles.temporaryFolder(),
                      noProcessEvents: Bool = false) throws -> Daemon {
        let notifyPath = folder + "/notify"
        let notify = SystemTestSockets.boundSocket(Array(notifyPath.utf8), type: Int32(SOCK_DGRAM.rawValue))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(notify, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try """
            kernelBalancing: leave
            dryRun: true
            stateDirectory: \(folder)/state
            runtimeDirectory: \(folder)/run
            policyDirectory: \(folder)/policies.d
            \(extra)
            """.write(toFile: folder + "/config.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", folder + "/config.yaml"]
        if noProcessEvents, getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--bounding-set=-net_admin", "--inh-caps=-net_admin", binary] + process.arguments!
        }
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notifyPath
        environment["JOURNAL_STREAM"] = "8:1234"   // as under systemd: journald priority prefixes
        process.environment = environment
        let log = folder + "/daemon.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return Daemon(process: process, folder: folder, notify: notify, log: log)
    }

    /// numabalance with `arguments`, to its end: exit status and stderr.
    static func runToEnd(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    static func stop(_ daemon: Daemon) -> (status: Int32, seconds: Double) {
        let started = Date()
        kill(daemon.process.processIdentifier, SIGTERM)
        daemon.process.waitUntilExit()
        close(daemon.notify)
        defer { SystemTestFiles.remove(daemon.folder) }
        return (daemon.process.terminationStatus, Date().timeIntervalSince(started))
    }

    @Test("READY, status over the socket, SIGHUP with a broken config, SIGTERM: the whole life")
    func life() throws {
        let daemon = try Self.start()
        let ready = daemon.waitFor("READY=1")
        #expect(ready.last?.contains("READY=1") == true, "no READY=1: \(ready)\n\(daemon.logText)")
        #expect(ready.last?.contains("STATUS=") == true)

        let status = try ControlClientForTests.send("status-json", runtime: daemon.folder + "/run")
        #expect(status.contains("\"mode\""), "\(status)")
        #expect(status.contains("\"dryRun\" : true"), "\(status)")
        let metrics = try ControlClientForTests.send("metrics", runtime: daemon.folder + "/run")
        #expect(metrics.contains("numabalance_processes_tracked"), "\(metrics)")

        // A broken config, then SIGHUP: RELOADING=1, READY=1 again, the error logged, still running.
        try "scanPeriod:\n  min: 1s\n  maxx: 10s\n".write(toFile: daemon.folder + "/config.yaml", atomically: true,
                                                         encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        let reload = daemon.waitFor("READY=1")
        #expect(reload.contains { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") }, "\(reload)")
        #expect(daemon.process.isRunning)
        let log = daemon.logText
        #expect(log.contains("config.yaml:3:3"), "no file:line:column in the log:\n\(log)")
        #expect(log.contains("<3>reload refused"), "not at journald's error priority:\n\(log)")
        let after = try ControlClientForTests.send("status-json", runtime: daemon.folder + "/run")
        #expect(after.contains("\"policyGeneration\" : 1"), "the broken reload changed the generation")

        let stopped = Self.stop(daemon)
        #expect(stopped.status == 0)
        #expect(stopped.seconds < 5)
    }

    /// The balancing loop sleeps until its next due time (rounds, the
    /// status, the recheck: about once a second each), woken early by the
    /// threads that leave it work (counted apart: on a busy host the process
    /// events alone wake it); it ticked ten times a second before.
    @Test("the balancing loop sleeps until its next due time, not a 10 Hz tick; SIGTERM wakes it at once")
    func loopSleepsUntilDue() throws {
        let daemon = try Self.start(noProcessEvents: true)
        _ = daemon.waitFor("READY=1")
        struct Status: Decodable {
            struct Totals: Decodable { var loopTimerWakeups: Int; var loopSignalledWakeups: Int }
            var totals: Totals
            var uptimeSeconds: Double
        }
        func status() throws -> Status {
            let json = try ControlClientForTests.send("status-json", runtime: daemon.folder + "/run")
            return try JSONDecoder().decode(Status.self, from: Data(json.utf8))
        }
        usleep(1_500_000)   // past the first listing and rounds
        let before = try status()
        usleep(3_000_000)
        let after = try status()
        let timer = after.totals.loopTimerWakeups - before.totals.loopTimerWakeups
        let seconds = after.uptimeSeconds - before.uptimeSeconds
        // A 10 Hz tick ends 30 sleeps at their deadline in 3 s.
        let cut = after.totals.loopSignalledWakeups - before.totals.loopSignalledWakeups
        print("daemon loop: \(timer) sleeps ended at their deadline, \(cut) cut short, in \(seconds) s")
        #expect(timer < 15, "\(timer) sleeps ended at their deadline in \(seconds) s (\(cut) cut short)")
        #expect(seconds >= 2, "the status was not published in 3 s: \(seconds) s of uptime")
        #expect(daemon.logText.contains("process events off"), "it followed the host's process events: \(daemon.logText.prefix(2000))")
        let stopped = Self.stop(daemon)
        #expect(stopped.status == 0)
        #expect(stopped.seconds < 2, "SIGTERM took \(stopped.seconds) s")
    }

    @Test("a second instance with the same state folder refuses to start, naming the first")
    func oneInstance() throws {
        let first = try Self.start()
        _ = first.waitFor("READY=1")
        let (status, text) = try Self.runToEnd(["run", "--config", first.folder + "/config.yaml"])
        #expect(status == 1)
        #expect(text.contains("another numabalance is running (pid \(first.process.processIdentifier)"), "\(text)")
        #expect(Self.stop(first).status == 0)
    }

    /// The journal a previous run left: an act that finished on this (live)
    /// test process, one on a process long gone, and one a crash cut short.
    /// At start the daemon reads it back: the live one cools down and its pin
    /// is numabalance's own; the gone one is dropped; the cut one is named.
    @Test("at start the journal is read back: cool-downs and own pins of live processes, interrupted acts named")
    func journalReadAtStart() throws {
        let folder = SystemTestFiles.temporaryFolder()
        let me = try ProcFS().identity(getpid())
        let gone = ProcessIdentity(pid: me.pid, startTime: me.startTime + 1)   // the same pid, another process
        let pin = { (who: ProcessIdentity) in
            Action.setAffinity(SetAffinity(process: who, cpus: CPUSet([0]), nodes: [NodeID(0)],
                                           reason: Reason(rule: .cpuFollowsMemory, summary: "test")))
        }
        let journal = Journal.inDirectory(folder + "/state")
        let now = Date().timeIntervalSince1970
        for (id, who, finished) in [("a1", me, true), ("a2", gone, true), ("a3", me, false)] {
            try journal.append(JournalEntry(id: id, phase: .intent, time: now, by: "test", action: pin(who)))
            if finished {
                try journal.append(JournalEntry(id: id, phase: .outcome, time: now, by: "test", action: pin(who),
                                                outcome: ActionOutcome(status: .done, summary: "pinned")))
            }
        }
        let daemon = try Self.start(folder: folder)
        _ = daemon.waitFor("READY=1")
        let line = daemon.logText.split(separator: "\n").first { $0.contains("journal read") }.map(String.init) ?? ""
        #expect(Self.stop(daemon).status == 0)
        #expect(line.contains("entries=5"), "\(line)")
        #expect(line.contains("coolingDown=1"), "\(line)")
        #expect(line.contains("ownPins=1"), "\(line)")
        #expect(line.contains("interrupted=1"), "\(line)")
    }

    /// A user's process with 1.8 MB of arguments against a `java.*-Xmx`
    /// policy: ICU backtracked for hours over it on the balancing loop, which
    /// then published no status and pinged no watchdog (issue 15, point 2).
    /// The loop publishes once a second: its uptime keeps advancing.
    @Test("a 1.8 MB command line against a backtracking cmdline regex does not stall the balancing loop")
    func longCommandLine() throws {
        let folder = SystemTestFiles.temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder + "/policies.d", withIntermediateDirectories: true)
        try """
            apiVersion: numabalance/v1
            kind: Policy
            name: jvm-heap
            match: {cmdline: 'java.*-Xmx'}
            placement: {mode: auto}
            """.write(toFile: folder + "/policies.d/jvm.yaml", atomically: true, encoding: .utf8)
        let daemon = try Self.start(folder: folder)
        defer { _ = Self.stop(daemon) }
        _ = daemon.waitFor("READY=1")
        // Waiting on a pipe, not in a child of its own (which would outlive a SIGKILL).
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "read line"] + Array(repeating: String(repeating: "java ", count: 20_000), count: 18)
        child.standardInput = Pipe()
        try child.run()
        defer { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() }
        sleep(2)   // discovery lists /proc once a second: the child has been matched
        let uptime = { () throws -> Double in
            let json = try ControlClientForTests.send("status-json", runtime: daemon.folder + "/run")
            struct Status: Decodable { var uptimeSeconds: Double }
            return try JSONDecoder().decode(Status.self, from: Data(json.utf8)).uptimeSeconds
        }
        let first = try uptime()
        sleep(3)
        let second = try uptime()
        #expect(second - first >= 2, "the loop published \(first) s then \(second) s of uptime 3 s later\n\(daemon.logText)")
    }

    /// The time limit bounds one regex on one command line, not a user who
    /// starts 60 processes against 3 such policies: 60 × 3 × 50 ms is 9 s of
    /// matching. Matched off the balancing thread, the loop keeps publishing
    /// while it goes on (issue 15, point 2); on the loop, it stalled 9 s.
    @Test("60 processes that use up the regex time limit of 3 policies: the loop keeps running while they are matched")
    func matchingOffTheLoop() throws {
        let folder = SystemTestFiles.temporaryFolder()
        try FileManager.default.createDirectory(atPath: folder + "/policies.d", withIntermediateDirectories: true)
        // Exponential backtracking over a run of a's that ends in a b.
        let policies = (1...3).map { """
            apiVersion: numabalance/v1
            kind: Policy
            name: slow-\($0)
            match: {cmdline: '(a|aa)+$'}
            placement: {mode: auto}
            """ }.joined(separator: "\n---\n")
        try policies.write(toFile: folder + "/policies.d/slow.yaml", atomically: true, encoding: .utf8)
        let daemon = try Self.start(folder: folder)
        defer { _ = Self.stop(daemon) }
        _ = daemon.waitFor("READY=1")
        let uptime = { () throws -> Double in
            let json = try ControlClientForTests.send("status-json", runtime: daemon.folder + "/run")
            struct Status: Decodable { var uptimeSeconds: Double }
            return try JSONDecoder().decode(Status.self, from: Data(json.utf8)).uptimeSeconds
        }
        var children: [Process] = []
        defer { for child in children { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() } }
        for _ in 0..<60 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/sh")
            child.arguments = ["-c", "read line", String(repeating: "a", count: 60) + "b"]
            child.standardInput = Pipe()
            try child.run()
            children.append(child)
        }
        // Discovery lists /proc once a second: the next listing finds them all.
        let first = try uptime()
        sleep(5)
        let second = try uptime()
        #expect(second - first >= 3.5, "the loop published \(first) s then \(second) s of uptime 5 s later")
        // And they were matched: every regex ran out its time on some child.
        let line = "cmdline regex stopped at its time limit"
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, daemon.logText.components(separatedBy: line).count - 1 < 60 { usleep(200_000) }
        let stopped = daemon.logText.components(separatedBy: line).count - 1
        #expect(stopped >= 60, "\(stopped) time-limit lines for 60 children\n\(daemon.logText.suffix(2000))")
    }

    @Test("a broken config stops the start with file:line:column, exit 1")
    func brokenStart() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        try "dryRun: maybe\n".write(toFile: folder + "/bad.yaml", atomically: true, encoding: .utf8)
        let (status, text) = try Self.runToEnd(["run", "--config", folder + "/bad.yaml"])
        #expect(status == 1)
        #expect(text.contains("bad.yaml:1:9"), "\(text)")
    }
}

/// The control protocol spoken by hand (what `socat` would do).
enum ControlClientForTests {
    static func send(_ request: String, runtime: String) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var (storage, length) = SystemTestSockets.unixAddress(Array((runtime + "/control.sock").utf8))
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else { throw SocketFailure(reason: String(cString: strerror(errno))) }
        let line = Array((request + "\n").utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    struct SocketFailure: Error { var reason: String }
}
