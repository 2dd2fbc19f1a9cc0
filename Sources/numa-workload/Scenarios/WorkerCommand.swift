// The hidden role a multi-process scenario starts itself in, once per process.
import ArgumentParser
import CLinux
import Glibc

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "One process of a multi-process scenario (started by the scenario itself).",
        shouldDisplay: false
    )

    @Option var mib = 0
    @Option var memNode = 0
    @Option var shmId: Int32?
    @Option var threads = 1
    @Flag var sliced = false
    @Option var parent: Int32?
    @Option var readyFd: Int32?
    @Option var field: [String] = []
    @OptionGroup var options: RunOptions

    func run() throws {
        // A worker whose scenario process died gets SIGTERM and stops cleanly;
        // the check after catches a parent that died before the call.
        _ = clinux_set_parent_death_signal(SIGTERM)
        if let parent, getppid() != parent { throw ExitCode.failure }
        try runScenario {
            let memory: MemorySource = shmId.map { .segment(id: $0) } ?? .privateMemory(mib: mib, node: memNode)
            let plan = WorkerPlan(memory: memory, threads: threads, sliced: sliced, fields: field)
            return try Workload.run(plan, length: options.length, readyDescriptor: readyFd)
        }
    }
}
