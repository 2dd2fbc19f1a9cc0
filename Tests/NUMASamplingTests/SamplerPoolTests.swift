import Foundation
import Glibc
import NUMAModel
import NUMAProc
import NUMATopology
import Testing

@testable import NUMASampling
import NUMASystem

@Suite("Per-node sampler threads")
struct SamplerPoolTests {
    /// The host's CPUs cut into one-CPU nodes, plus a CPU-less memory node.
    func splitTopology() throws -> Topology {
        let live = try TopologyReader().read()
        var nodes = live.allCPUs.ids.map { cpu in
            Node(id: NodeID(cpu), cpus: CPUSet([cpu]), memTotalBytes: 1 << 30, memFreeBytes: 1 << 29)
        }
        let memoryOnly = NodeID((nodes.last?.id.rawValue ?? 0) + 1)
        nodes.append(Node(id: memoryOnly, cpus: CPUSet(), memTotalBytes: 1 << 30, memFreeBytes: 1 << 30))
        let distances = nodes.indices.map { i in nodes.indices.map { $0 == i ? 10 : 20 } }
        return Topology(nodes: nodes, distances: distances)
    }

    @Test("per-thread pins are read thread by thread: the pool's pinned threads show beside the main thread's affinity")
    func perThreadAffinities() throws {
        let topology = try splitTopology()
        let cpus = topology.allCPUs
        try #require(cpus.count >= 2, "needs two CPUs for a one-CPU pin to differ from the main thread's")
        let pool = try SamplerPool(sampler: ProcessSampler(topology: topology))
        defer { pool.stop() }
        let readings = try ThreadCPUSampler(procfs: ProcFS()).read(pid: getpid())
        let main = try ProcFS().status(getpid()).cpusAllowed
        let others = ThreadCPUSampler.otherAffinities(readings, main: main)
        for cpu in cpus { #expect(others.contains(CPUSet([cpu])), "no thread pinned to CPU \(cpu) in \(others)") }
        #expect(!others.contains(main))
    }

    @Test("one thread per node with CPUs, pinned to them (affinity read back), named, none on CPU-less nodes")
    func pinned() throws {
        let topology = try splitTopology()
        let pool = try SamplerPool(sampler: ProcessSampler(topology: topology))
        defer { pool.stop() }
        let withCPUs = topology.nodes.filter(\.hasCPUs)
        #expect(pool.samplers.map(\.node) == withCPUs.map(\.id))
        for thread in pool.samplers {
            let node = try #require(topology.node(thread.node))
            #expect(thread.tid > 0)
            #expect((try? CPUMask.affinity(of: thread.tid).get()) == node.cpus, "sampler of node \(node.id)")
            #expect(thread.threadNameFromKernel == "nb-sampler-\(node.id)")
            #expect(thread.name.count <= 15)
        }
    }

    @Test("stop joins every thread: their tasks leave /proc/self/task")
    func stops() throws {
        let pool = try SamplerPool(sampler: ProcessSampler(topology: try splitTopology()))
        let tids = pool.samplers.map(\.tid)
        pool.stop()
        // pthread_join returns once the thread cleared its tid (at exit_mm);
        // the kernel reaps the task a moment later: a second at most here,
        // where a thread never joined would stay.
        for tid in tids {
            var tries = 0
            while access("/proc/self/task/\(tid)", F_OK) == 0, tries < 100 { usleep(10_000); tries += 1 }
            #expect(access("/proc/self/task/\(tid)", F_OK) != 0, "thread \(tid) still in /proc/self/task")
        }
    }

    @Test("a round goes to the sampler of the node where the process ran, and its outcome comes back")
    func routesAndReports() async throws {
        let topology = try splitTopology()
        let pool = try SamplerPool(sampler: ProcessSampler(topology: topology))
        defer { pool.stop() }
        var options = SamplingOptions()
        options.cpuInterval = .milliseconds(20)
        // A first round goes to the sampler of the node of the CPU the process
        // (its main thread, asleep while the tests run) last ran on.
        let here = topology.node(ofCPU: try ProcFS().stat(getpid()).processor)
        guard case .observed(let report, let node) = await pool.observe(pid: getpid(), options: options) else {
            Issue.record("sampling this process failed")
            return
        }
        #expect(report.observation.identity.pid == getpid())
        #expect(topology.node(node)?.hasCPUs == true)
        #expect(node == here, "sampled by node \(node)'s sampler; the process ran on node \(String(describing: here))")
        // The second round of the same process measures CPU since the first: no wait.
        let start = Clock.monotonicSeconds()
        options.cpuInterval = .seconds(5)
        _ = await pool.observe(pid: getpid(), options: options)
        #expect(Clock.monotonicSeconds() - start < 4)
    }

    /// The CPUs this process may run on (a container's cpuset may hold fewer than are online).
    static let ourCPUs = (try? CPUMask.affinity(of: getpid()).get())?.ids ?? []

    /// A child started on one CPU (taskset, then exec sleep) last ran there:
    /// one per CPU, so a pool that sends every round to one sampler fails.
    @Test("a process that ran on CPU k is sampled by node k's sampler, for every CPU",
          .enabled("needs two CPUs to run on and taskset(1)") {
              ourCPUs.count >= 2 && access("/usr/bin/taskset", X_OK) == 0
          })
    func routesByTheCPUItRanOn() async throws {
        let topology = try splitTopology()
        let pool = try SamplerPool(sampler: ProcessSampler(topology: topology))
        defer { pool.stop() }
        var options = SamplingOptions()
        options.cpuInterval = .milliseconds(20)
        for cpu in Self.ourCPUs {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            child.arguments = ["-c", "\(cpu)", "/bin/sleep", "30"]
            try child.run()
            // SIGKILL: the child may inherit a mask that blocks SIGTERM.
            defer { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() }
            let pid = child.processIdentifier
            // Until taskset has exec'd sleep, on its CPU.
            let deadline = Clock.monotonicSeconds() + 5
            while (try? ProcFS().stat(pid).comm) != "sleep", Clock.monotonicSeconds() < deadline { usleep(10_000) }
            #expect(try ProcFS().stat(pid).processor == cpu)
            guard case .observed(_, let node) = await pool.observe(pid: pid, options: options) else {
                Issue.record("sampling the child on CPU \(cpu) failed")
                continue
            }
            #expect(node == NodeID(cpu), "the child on CPU \(cpu) was sampled by node \(node)'s sampler")
        }
    }

    /// The pool remembers a round of each process to size the next; a
    /// process that exits between rounds is dropped when the daemon says so,
    /// and one whose round fails drops itself (issue 15, point 1: the pool
    /// kept an entry for every pid that ever came and went).
    @Test("what the pool remembers: one entry per live process, none left for the exited ones")
    func forgetsExited() async throws {
        let pool = try SamplerPool(sampler: ProcessSampler(topology: try splitTopology()))
        defer { pool.stop() }
        var options = SamplingOptions()
        options.cpuInterval = .milliseconds(10)
        var children: [Process] = []
        for _ in 0..<20 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/sleep")
            child.arguments = ["600"]   // killed at the end; 30 s ran out under a loaded full run
            try child.run()
            children.append(child)
        }
        defer { for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() } }
        // Until each has exec'd sleep: a round over the test's own forked
        // copy, exec'ing under it, is refused (another program since sampled).
        let deadline = Clock.monotonicSeconds() + 10
        for child in children {
            while (try? ProcFS().stat(child.processIdentifier).comm) != "sleep", Clock.monotonicSeconds() < deadline { usleep(10_000) }
        }
        for child in children {
            let outcome = await pool.observe(pid: child.processIdentifier, options: options)
            guard case .observed = outcome else {
                Issue.record("sampling child \(child.processIdentifier) failed: \(outcome)")
                continue
            }
        }
        #expect(pool.rememberedCount == 20)
        // Ten exit between rounds; the daemon's discovery names them.
        for child in children.prefix(10) { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() }
        pool.forget(children.prefix(10).map(\.processIdentifier))
        #expect(pool.rememberedCount == 10)
        // The rest exit and are sampled once more: the failed round forgets each.
        for child in children.suffix(10) { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() }
        for child in children.suffix(10) { _ = await pool.observe(pid: child.processIdentifier, options: options) }
        #expect(pool.rememberedCount == 0)
    }

    @Test("a vanished pid is an outcome, not a crash, and the pool keeps working")
    func vanished() async throws {
        let pool = try SamplerPool(sampler: ProcessSampler(topology: try splitTopology()))
        defer { pool.stop() }
        guard case .failed(let pid, let error, _) = await pool.observe(pid: 999_999) else {
            Issue.record("pid 999999 was observed")
            return
        }
        #expect(pid == 999_999)
        #expect(error == .noSuchProcess(pid: 999_999))
        var options = SamplingOptions()
        options.cpuInterval = .milliseconds(10)
        guard case .observed = await pool.observe(pid: getpid(), options: options) else {
            Issue.record("the pool stopped working after a failure")
            return
        }
    }
}
