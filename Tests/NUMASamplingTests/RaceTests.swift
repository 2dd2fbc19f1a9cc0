import Foundation
import Glibc
import NUMAModel
import NUMAProc
import NUMATopology
import Synchronization
import Testing

@testable import NUMASampling

/// The real prober, with a hook run before each query: the test's way of
/// making the world change in the middle of a round.
final class HookedProber: PageProber, Sendable {
    let calls = Mutex(0)
    let hook: @Sendable (Int) -> Void

    init(hook: @escaping @Sendable (Int) -> Void) { self.hook = hook }

    func query(pid: Int32, addresses: [UInt64]) -> Result<[Int32], ProbeError> {
        let call = calls.withLock { value -> Int in
            value += 1
            return value
        }
        hook(call)
        return LinuxPageProber().query(pid: pid, addresses: addresses)
    }
}

/// Starts a program with posix_spawn (no Foundation reaper), returns its pid.
func spawn(_ path: String, _ arguments: [String], stdout: Int32? = nil) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else { throw LabelledError("posix_spawn \(path): \(String(cString: strerror(rc)))") }
    return pid
}

struct LabelledError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// numa-workload split with all its memory on the first node, idle; returns its pid once ready.
func startIdleWorkload(mib: Int) throws -> pid_t {
    let node = try TopologyReader().read().nodes.first { $0.hasMemory }?.id.rawValue ?? 0
    return try startWorkload(["split", "--mib", "\(mib)", "--share", "\(node):1", "--idle"]).pid
}

/// numa-workload with `arguments`; returns its pid and ready line once it printed one.
func startWorkload(_ arguments: [String]) throws -> (pid: pid_t, ready: String) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw LabelledError("pipe failed") }
    let pid = try spawn(builtExecutable("numa-workload"), arguments, stdout: fds[1])
    close(fds[1])
    let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
    var text = ""
    // Until the ready line is whole.
    while !(text.contains("ready pid=") && text.hasSuffix("\n")) {
        let chunk = reader.availableData
        if chunk.isEmpty { throw LabelledError("numa-workload exited before it was ready: \(text)") }
        text += String(decoding: chunk, as: UTF8.self)
    }
    let ready = text.split(separator: "\n").first { $0.hasPrefix("ready pid=") }.map(String.init) ?? text
    return (pid, ready)
}

func reap(_ pid: pid_t) {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

@Suite("Races are normal events", .serialized)
struct RaceTests {
    func sampler(_ prober: any PageProber = LinuxPageProber()) throws -> ProcessSampler {
        ProcessSampler(topology: try TopologyReader().read(), prober: prober)
    }

    @Test("a process that exits during a round: the observation keeps the pages queried before, and says so")
    func exitsMidRound() throws {
        let pid = try startIdleWorkload(mib: 512)
        defer { reap(pid) }
        // The first query is answered; the process is killed before the second.
        let prober = HookedProber { call in if call == 2 { reap(pid) } }
        var options = SamplingOptions()
        options.pilotPages = 256        // a small first draw, so that a second one follows
        options.halfWidth = 0.002
        options.budgetSeconds = 30
        options.cpuInterval = .zero
        let report = try sampler(prober).observe(pid: pid, options: options)
        let o = report.observation
        #expect(o.events.contains { $0.contains("exited during the round") }, "\(o.events)")
        #expect(o.pages.resident > 200)
        #expect(o.threads.isEmpty)
    }

    @Test("a process that unmaps half its memory during a round: those samples count as failed, with a note")
    func unmapsMidRound() throws {
        let size = 64 << 20
        let buffer = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        memset(buffer, 7, size)
        let half = UInt(bitPattern: buffer) + UInt(size / 2)
        let prober = HookedProber { call in
            if call == 1 { munmap(UnsafeMutableRawPointer(bitPattern: half), size / 2) }
        }
        defer { munmap(buffer, size / 2) }
        var options = SamplingOptions()
        options.cpuInterval = .zero
        options.budgetSeconds = 5
        let report = try sampler(prober).observe(pid: getpid(), options: options)
        let o = report.observation
        #expect(o.events.contains { $0.contains("unmapped during the round") }, "\(o.events)")
        #expect(o.pages.failed > 0)
        #expect(o.pages.resident > 0)
    }

    @Test("a zombie: an observation that says so, with no pages")
    func zombie() throws {
        let pid = try spawn("/bin/true", [])
        defer { reap(pid) }
        let procfs = ProcFS()
        for _ in 0..<500 where (try? procfs.stat(pid))?.state != "Z" { usleep(10_000) }
        try #require((try? procfs.stat(pid))?.state == "Z", "pid \(pid) did not become a zombie")
        let report = try sampler().observe(pid: pid)
        #expect(report.observation.events.contains { $0.contains("zombie") })
        #expect(report.observation.pages.queried == 0)
        #expect(report.observation.locality == nil)
    }

    @Test("a large untouched reservation (8 GiB reserved, 16 MiB touched): resident pages found, marked sparse")
    func sparseReservation() throws {
        let reserved = 8 << 30
        let touched = 16 << 20
        let big = try #require(mmap(nil, reserved, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0))
        defer { munmap(big, reserved) }
        memset(big, 1, touched)
        var options = SamplingOptions()
        options.cpuInterval = .zero
        options.budgetSeconds = 5
        let report = try sampler().observe(pid: getpid(), options: options)
        let pages = report.observation.pages
        #expect(report.observation.events.contains { $0.contains("sparse") }, "\(report.observation.events)")
        #expect(pages.resident > 0)
        #expect(pages.notResident > pages.resident)
        #expect(pages.queried <= options.maxSamples + 16)
        #expect(report.observation.eligibleBytes >= UInt64(reserved))
    }
}
