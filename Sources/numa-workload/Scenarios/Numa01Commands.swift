// numa01 and numa01-thread-alloc: processes whose threads share (or slice)
// their own buffer, all first touched on one node.
import ArgumentParser

/// What numa01 and its THREAD_ALLOC variant share.
struct Numa01Options: ParsableArguments {
    @Option(help: "Memory per process in MiB.") var mib = 128
    @Option(help: "Processes.") var processes = 2
    @Option(help: "Threads per process (default: the CPUs divided among the processes).")
    var threads: Int?
    @Option(help: "The node all memory is first touched on.") var memNode = 0

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
        guard processes >= 1 else { throw ValidationError("--processes must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Spawns the worker processes and waits for them.
    func run(sliced: Bool, options: RunOptions) throws {
        try runScenario {
            try NodeCPUs.requireMemory(on: memNode)
            let perProcess = threads ?? max(1, NodeCPUs.configuredCPUs / processes)
            let workers = (0..<processes).map { index in
                ["--mib", "\(mib)", "--mem-node", "\(memNode)", "--threads", "\(perProcess)",
                 "--field", "proc=\(index)"] + (sliced ? ["--sliced"] : []) + options.workerArguments
            }
            return try Coordinator(workers: workers).run {}
        }
    }
}

struct Numa01Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numa01",
        abstract: "Processes (2) whose threads all sweep the process's own buffer; all memory first touched on one node.",
        discussion: "No process or thread is pinned. No process fits one node's CPUs when the processes' threads outnumber them."
    )

    @OptionGroup var scenario: Numa01Options
    @OptionGroup var options: RunOptions

    func run() throws { try scenario.run(sliced: false, options: options) }
}

struct Numa01ThreadAllocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numa01-thread-alloc",
        abstract: "As numa01, but each thread sweeps its own slice of its process's buffer."
    )

    @OptionGroup var scenario: Numa01Options
    @OptionGroup var options: RunOptions

    func run() throws { try scenario.run(sliced: true, options: options) }
}
