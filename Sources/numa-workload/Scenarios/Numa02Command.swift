// numa02: one process, each thread its own slice, all first touched on the
// main thread's node.
import ArgumentParser

struct Numa02Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numa02",
        abstract: "One process; each thread sweeps its own slice; all memory first touched on the main thread's node.",
        discussion: "Threads are not pinned: where they run is the scheduler's (or the balancer's) choice."
    )

    @Option(help: "Memory in MiB.") var mib = 256
    @Option(help: "Threads (default: every CPU).") var threads: Int?
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try runScenario {
            let node = NodeCPUs.currentNode()
            let plan = WorkerPlan(memory: .privateMemory(mib: mib, node: node),
                                  threads: threads ?? max(1, NodeCPUs.configuredCPUs), sliced: true)
            return try Workload.run(plan, length: options.length)
        }
    }
}
