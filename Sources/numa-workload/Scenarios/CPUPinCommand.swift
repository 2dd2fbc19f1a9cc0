// cpu-pin: a process whose threads the user pinned one by one to single
// CPUs (libvirt's per-vCPU pins, DPDK's lcores), each thread with a buffer
// of its own first touched on a node of the scenario's choosing.
import ArgumentParser
import Glibc

struct CPUPinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu-pin",
        abstract: "One thread per --cpus entry, pinned to that single CPU, sweeping its own buffer first touched on the matching --mem-nodes entry.",
        discussion: """
            Each buffer is a mapping of its own (one numa_maps line, kept apart \
            from its neighbours by PROT_NONE guard pages), first touched by the \
            main thread on its --mem-nodes node before any thread starts. Each \
            thread then pins itself (sched_setaffinity from inside the thread) to \
            its one CPU and sweeps only its buffer. The main thread is not pinned. \
            The ready line gives buffers=START:CPU:NODE:PAGES,... (START in hex as \
            numa_maps prints it; NODE where the buffer was first touched; PAGES of \
            it on NODE by move_pages(2) just before the line).

            Example: cpu-pin --cpus 0,2 --mem-nodes 1,0 puts each thread's buffer \
            on the other node than the thread's CPU.
            """
    )

    @Option(help: "The CPU of each thread, comma-separated.") var cpus: String = "0,2"
    @Option(help: "The node each thread's buffer is first touched on, comma-separated.") var memNodes: String = "1,0"
    @Option(help: "MiB per thread's buffer.") var mib = 32
    @OptionGroup var options: RunOptions

    static func list(_ text: String) -> [Int]? {
        let items = text.split(separator: ",").map { Int($0) }
        guard !items.isEmpty, items.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        return items.compactMap { $0 }
    }

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
        guard let cpuList = Self.list(cpus), let nodeList = Self.list(memNodes) else {
            throw ValidationError("--cpus and --mem-nodes want comma-separated numbers")
        }
        guard cpuList.count == nodeList.count else { throw ValidationError("--cpus and --mem-nodes must be as long") }
    }

    func run() throws {
        try runScenario {
            let cpuList = Self.list(cpus) ?? [], nodeList = Self.list(memNodes) ?? []
            for cpu in cpuList where cpu >= NodeCPUs.configuredCPUs {
                throw WorkloadError("no CPU \(cpu) (CPUs 0-\(NodeCPUs.configuredCPUs - 1))")
            }
            for node in nodeList { try NodeCPUs.requireMemory(on: node) }
            let signals = StopSignals.block()
            var buffers: [MemoryRegion] = []
            for node in nodeList {
                let buffer = try MemoryRegion.map(bytes: mib << 20, flags: 0, guardPages: true)
                try MemoryPolicy.bound(to: node) { buffer.touch(0..<buffer.size) }
                buffers.append(buffer)
            }
            // The threads share one state; each sweeps its own buffer, reached
            // through a region of its own (the pieces are offsets into it).
            let state = SweepState()
            var threads: [pthread_t] = []
            for (buffer, cpu) in zip(buffers, cpuList) {
                threads += try SweepThreads.start([(pieces: [0..<buffer.size], cpus: [cpu])], region: buffer, state: state)
            }
            let failures = state.awaitRunning(threads.count)
            guard failures == 0 else { throw WorkloadError("\(failures) thread(s) could not be pinned") }
            let pid = getpid()
            // Where each buffer really is, by the kernel, before anyone else can act.
            let described = zip(buffers, zip(cpuList, nodeList)).map { buffer, pin in
                "\(buffer.startHex):\(pin.0):\(pin.1):\(buffer.pagesByNode()[pin.1] ?? 0)"
            }
            Output.line("ready pid=\(pid) threads=\(threads.count) mib=\(mib) buffers=\(described.joined(separator: ","))")
            Progress.runToEnd(pid: pid, state: state, signals: signals, length: options.length, threads: threads)
            return 0
        }
    }
}
