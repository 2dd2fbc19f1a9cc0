// The real syscalls on this host (one node, two CPUs): affinity of a child
// process set, journalled and restored; move_pages' page query for real
// (nothing can move on one node); a dry run that leaves the child as it was.
import Foundation
import NUMAActuation
import NUMAModel
import Testing

/// A `sleep` child for the duration of a test.
final class SleepingChild {
    let process = Process()
    init() throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["600"]   // killed in deinit; 30 s could run out under load
        try process.run()
    }
    var pid: Int32 { process.processIdentifier }
    deinit {
        // SIGKILL: a SIGTERM may be blocked in the mask the child inherited.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

let hostHasTwoCPUs = sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2

@Suite("Real syscalls on this host")
struct HostSyscallTests {
    let kernel = LinuxKernel()

    func identity(_ pid: Int32) throws -> ProcessIdentity {
        try kernel.process(pid).get().identity
    }

    func liveOptions() -> ActuationOptions {
        ActuationOptions(budget: TokenBucket(bytesPerSecond: 1_073_741_824, clock: kernel), selfPID: getpid())
    }

    @Test("a child's affinity is set on its threads, journalled, and restored", .enabled(if: hostHasTwoCPUs))
    func affinityAndRestore() throws {
        let child = try SleepingChild()
        let original = try kernel.affinity(ofThread: child.pid).get()
        let journal = temporaryJournal()
        let action = Action.setAffinity(SetAffinity(process: try identity(child.pid), cpus: CPUSet([0]), nodes: [0],
                                                    reason: testReason))
        let records = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: liveOptions()), journal: journal,
                                 by: "test").run([action])
        #expect(records.first?.outcome.status == .done, "\(records)")
        #expect(try kernel.affinity(ofThread: child.pid).get() == CPUSet([0]))
        let results = try Restorer(kernel: kernel, journal: journal, selfPID: getpid(), by: "test").restore(pid: child.pid)
        #expect(results.map(\.status) == [.restored])
        #expect(try kernel.affinity(ofThread: child.pid).get() == original)
    }

    /// Security review 4.2: an exec keeps pid and start time, so the identity
    /// check alone let an act meant for the sampled program reach the next
    /// one (a setuid one, say). A shell sampled, then exec'ing sleep.
    @Test("a child that exec'd another program since it was sampled is refused; the program sampled is acted on",
          .enabled(if: hostHasTwoCPUs))
    func execSinceSampledRefused() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "read line; exec /bin/sleep 30"]
        let input = Pipe()
        process.standardInput = input
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        let pid = process.processIdentifier
        let facts = try kernel.process(pid).get()
        let shell = try #require(facts.image, "no program image for the shell child")
        var options = liveOptions()
        options.sampledImages[facts.identity] = shell
        let pin = { Action.setAffinity(SetAffinity(process: facts.identity, cpus: CPUSet([1]), nodes: [0], reason: testReason)) }
        #expect(LinuxActuator(kernel: kernel, options: options).perform(pin()).outcome.status == .done)

        input.fileHandleForWriting.write(Data("go\n".utf8))
        var now: ProgramImage?
        for _ in 0..<500 {
            now = try kernel.process(pid).get().image
            if now != shell { break }
            usleep(10_000)
        }
        try #require(now != nil && now != shell, "the child never exec'd sleep")
        #expect(try kernel.process(pid).get().identity == facts.identity, "an exec keeps pid and start time")
        let record = LinuxActuator(kernel: kernel, options: options).perform(pin())
        #expect(record.outcome.status == .failed, "\(record.outcome)")
        #expect(record.outcome.error?.contains("runs another program since it was sampled") == true, "\(record.outcome)")
    }

    @Test("the dry run leaves a child's affinity as it was", .enabled(if: hostHasTwoCPUs))
    func dryRunLeavesAffinity() throws {
        let child = try SleepingChild()
        let original = try kernel.affinity(ofThread: child.pid).get()
        let action = Action.setAffinity(SetAffinity(process: try identity(child.pid), cpus: CPUSet([1]), nodes: [0],
                                                    reason: testReason))
        let record = DryRunActuator(kernel: kernel, options: liveOptions()).perform(action)
        #expect(record.outcome.status == .wouldDo)
        #expect(try kernel.affinity(ofThread: child.pid).get() == original)
    }

    /// On a one-node host no page can move: this checks the candidate query
    /// (move_pages with no nodes) against the real kernel, and that the
    /// actuator then says there is nothing to move. Moving is the lab's
    /// (ActuatorLabTests, on 2- and 4-node kernels).
    @Test("move_pages' query of a child's memory runs for real: every resident page is on node 0, nothing to move",
          .enabled(if: (try? String(contentsOfFile: "/sys/devices/system/node/online", encoding: .utf8))?
              .trimmingCharacters(in: .whitespacesAndNewlines) == "0"))
    func movePagesQueryOnOneNode() throws {
        let child = try SleepingChild()
        let maps = try kernel.mappings(child.pid).get().filter { $0.isAnonymous && $0.writable }
        let action = Action.moveRanges(MoveRanges(process: try identity(child.pid),
                                                  ranges: maps.map { AddressRange(start: $0.start, end: $0.end) },
                                                  to: 0, bytes: 0, reason: testReason))
        let record = LinuxActuator(kernel: kernel, options: liveOptions()).perform(action)
        #expect(record.outcome.status == .done, "\(record.outcome)")
        #expect(record.outcome.summary.contains("nothing to move"), "\(record.outcome.summary)")
        #expect(record.outcome.pagesMoved == 0 && record.outcome.pagesNotMoved == 0)
    }

    @Test("pid 1 and numabalance itself are refused before any syscall")
    func refusedTargets() throws {
        let options = liveOptions()
        for pid in [Int32(1), getpid()] {
            let action = Action.setAffinity(SetAffinity(process: try identity(pid), cpus: CPUSet([0]), nodes: [0],
                                                        reason: testReason))
            let record = LinuxActuator(kernel: kernel, options: options).perform(action)
            #expect(record.outcome.status == .failed)
            #expect(record.outcome.error?.contains("not acting on pid \(pid)") == true, "\(record.outcome)")
        }
    }
}
