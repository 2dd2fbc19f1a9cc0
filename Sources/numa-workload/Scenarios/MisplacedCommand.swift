// misplaced: all memory on one node, all threads on another.
import ArgumentParser

struct MisplacedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "misplaced",
        abstract: "Memory first touched on --mem-node, then every thread pinned to --cpu-node's CPUs.",
        discussion: """
            The process runs on --mem-node's CPUs (when it has any; executed \
            again there when started elsewhere) and first gathers all its pages \
            there, the runtime's own included; its threads \
            are pinned to --cpu-node (sched_setaffinity on each) only after the \
            buffer is placed. So every access is remote until something moves \
            the pages or the threads.
            """
    )

    @Option(help: "Memory in MiB.") var mib = 256
    @Option(help: "The node the memory is first touched on.") var memNode = 0
    @Option(help: "The node whose CPUs the threads run on.") var cpuNode = 1
    @Option(help: "Threads (default: the CPUs of --cpu-node).") var threads: Int?
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try runScenario {
            let cpus = try MisplacedStart.prepare(memNode: memNode, cpuNode: cpuNode)
            let plan = WorkerPlan(memory: .privateMemory(mib: mib, node: memNode),
                                  threads: threads ?? cpus.count, sliced: false,
                                  cpuNode: cpuNode, fields: ["cpu-node=\(cpuNode)"])
            return try Workload.run(plan, length: options.length)
        }
    }
}
