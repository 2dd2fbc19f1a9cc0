// shared-anon: one MAP_SHARED|MAP_ANONYMOUS mapping (maps shows it as
// "/dev/zero (deleted)", like PostgreSQL's shared buffers) shared with
// children made by fork, first touched on --mem-node.
import ArgumentParser
import CLinux
import Glibc

struct SharedAnonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shared-anon",
        abstract: "A MAP_SHARED|MAP_ANONYMOUS mapping first touched on --mem-node, swept by forked children.",
        discussion: """
            The parent maps and places the memory, then forks --children children \
            (before any thread exists, so fork is safe), each sweeping the whole \
            mapping with one thread, pinned to --cpu-node's CPUs when given. Ready \
            lines: the parent's first (role=parent), then one per child (role=child). \
            SIGTERM to the parent stops them all; a child whose parent dies stops too. \
            With --file, the mapping is of that file instead (created, never \
            replaced): the lab names one like a SysV segment to check that the \
            daemon is not fooled.
            """
    )

    @Option(help: "Memory in MiB.") var mib = 64
    @Option(help: "Children sharing the mapping.") var children = 2
    @Option(help: "The node the memory is first touched on.") var memNode = 0
    @Option(help: "Pin the children's threads to this node's CPUs.") var cpuNode: Int?
    @Option(help: "Map this file (created; it must not exist) instead of anonymous memory.") var file: String?
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
        guard children >= 1 else { throw ValidationError("--children must be at least 1") }
    }

    func run() throws {
        try runScenario {
            try NodeCPUs.requireMemory(on: memNode)
            let cpus = try cpuNode.map { try NodeCPUs.cpus(of: $0) }
            let size = mib << 20
            let fd = try file.map { path -> Int32 in
                let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw WorkloadError("create \(path)", errno: errno) }
                guard ftruncate(fd, off_t(size)) == 0 else { throw WorkloadError("ftruncate \(path)", errno: errno) }
                return fd
            } ?? -1
            defer { if fd >= 0 { close(fd) } }
            let kind = fd >= 0 ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS
            guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, kind, fd, 0),
                  base != MAP_FAILED else { throw WorkloadError("mmap MAP_SHARED of \(mib) MiB", errno: errno) }
            let region = MemoryRegion(base: base, size: size)
            try MemoryPolicy.bound(to: memNode) { region.touch(0..<size) }
            let signals = StopSignals.block()
            Output.line("ready pid=\(getpid()) role=parent mib=\(mib) mem-node=\(memNode)")
            var pids: [pid_t] = []
            for _ in 0..<children {
                let pid = fork()
                if pid == 0 { _exit(Self.child(region: region, cpus: cpus, signals: signals, length: options.length)) }
                guard pid > 0 else { throw WorkloadError("fork", errno: errno) }
                pids.append(pid)
            }
            let deadline = options.seconds.map { monotonicSeconds() + $0 }
            while signals.wait(seconds: min(1, deadline.map { $0 - monotonicSeconds() } ?? 1)) == nil {
                if let deadline, monotonicSeconds() >= deadline { break }
            }
            for pid in pids { kill(pid, SIGTERM) }
            for pid in pids { var status: Int32 = 0; _ = waitpid(pid, &status, 0) }
            region.unmap()
            Output.line("done pid=\(getpid())")
            return 0
        }
    }

    /// A child: one sweep thread over the whole mapping until SIGTERM or the parent's death.
    static func child(region: MemoryRegion, cpus: [Int]?, signals: StopSignals, length: RunLength) -> Int32 {
        _ = clinux_set_parent_death_signal(SIGTERM)
        // Shared mappings are not copied into a child's page tables at fork:
        // an idle child maps every page once, so it is a real sharer.
        if length.idle { region.touch(0..<region.size) }
        let state = SweepState()
        let count = length.idle ? 0 : 1
        guard let threads = try? SweepThreads.start(count: count, region: region, sliced: false, cpus: cpus, state: state)
        else { return 1 }
        while state.running.load(ordering: .acquiring) < count { usleep(1000) }
        if let cpus { try? NodeCPUs.pinCurrentThread(to: cpus) }
        Output.line("ready pid=\(getpid()) role=child threads=\(count) mib=\(region.size >> 20)")
        _ = signals.wait(seconds: length.seconds ?? 1e9)
        state.stop.store(true, ordering: .relaxed)
        SweepThreads.join(threads)
        return 0
    }
}
