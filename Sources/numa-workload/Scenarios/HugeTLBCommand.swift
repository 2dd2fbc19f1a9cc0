// hugetlb: a guest's RAM or a database's buffers on explicit huge pages
// (MAP_HUGETLB), misplaced: the huge pages on one node, the threads that
// sweep them pinned by the user to another, and the rest of the process
// with the threads.
import ArgumentParser
import Glibc

struct HugeTLBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hugetlb",
        abstract: "A MAP_HUGETLB mapping first touched on --mem-node, swept by threads pinned to --cpu-node; a private buffer on --cpu-node.",
        discussion: """
            The process pins itself to --cpu-node's CPUs and gathers its own \
            pages there, first touches a private buffer of --private-mib there \
            (so it is not a small process, and all its ordinary memory is local), \
            then maps --mib of MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB memory (the \
            system's default huge page size) and first touches it on --mem-node. \
            The node's pool must hold the pages: set \
            /sys/devices/system/node/nodeN/hugepages/hugepages-2048kB/nr_hugepages \
            first (the mapping fails with ENOMEM otherwise). The threads sweep only \
            the huge pages. The ready line gives huge=START (hex, as numa_maps \
            prints it) and --label, which a policy can match in the command line.
            """
    )

    @Option(help: "MiB of huge pages.") var mib = 64
    @Option(help: "MiB of ordinary private memory, on --cpu-node.") var privateMib = 24
    @Option(help: "The node the huge pages are first touched on.") var memNode = 0
    @Option(help: "The node whose CPUs the threads run on.") var cpuNode = 1
    @Option(help: "Threads (default: the CPUs of --cpu-node).") var threads: Int?
    @Option(help: "A word for the command line and the ready line (for a policy's match).") var label = "hugetlb"
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard mib > 0, privateMib >= 0 else { throw ValidationError("--mib must be positive, --private-mib not negative") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try runScenario {
            let cpus = try NodeCPUs.cpus(of: cpuNode)
            guard !cpus.isEmpty else { throw WorkloadError("node \(cpuNode) has no CPUs") }
            try NodeCPUs.requireMemory(on: memNode)
            try NodeCPUs.pinCurrentThread(to: cpus)
            try MemoryPolicy.gatherOwnPages(on: cpuNode)
            let signals = StopSignals.block()
            let own = try MemoryRegion.map(bytes: max(privateMib, 1) << 20)
            try MemoryPolicy.bound(to: cpuNode) { own.touch(0..<(privateMib << 20)) }
            let huge = try MemoryRegion.map(bytes: mib << 20, flags: MAP_HUGETLB)
            // One write per base page is one per huge page too (the huge page faults in whole).
            try MemoryPolicy.bound(to: memNode) { huge.touch(0..<huge.size) }

            let count = threads ?? cpus.count
            let state = SweepState()
            let work = (0..<count).map { index in
                let range = SweepRange.forThread(index, of: count, size: huge.size, sliced: true)
                return (pieces: [range.lower..<range.upper], cpus: Optional(cpus))
            }
            let started = try SweepThreads.start(work, region: huge, state: state)
            state.reportPinFailures(state.awaitRunning(count))
            let pid = getpid()
            Output.line("ready pid=\(pid) threads=\(count) mib=\(mib) huge=\(huge.startHex) private-mib=\(privateMib) "
                + "mem-node=\(memNode) cpu-node=\(cpuNode) label=\(label)")
            Progress.runToEnd(pid: pid, state: state, signals: signals, length: options.length, threads: started)
            return 0
        }
    }
}
