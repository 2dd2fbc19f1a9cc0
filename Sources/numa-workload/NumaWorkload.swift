// numa-workload: lab workloads with a known memory placement, for testing a
// NUMA balancer against the truth (numa01/numa02-style, misplaced, shm groups).
import ArgumentParser

@main
struct NumaWorkload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "numa-workload",
        abstract: "Memory-bound workloads with a known NUMA placement, for the lab.",
        discussion: """
            Each scenario places its memory first (first touch under a temporary \
            MPOL_BIND policy, then the default policy again so nothing blocks a \
            later migration), then runs a memory-bound loop: every thread reads and \
            writes one word per cache line of its range, over and over.

            Output, one line per event, unbuffered:
              ready pid=N threads=T mib=M ...   once per process, when placed
              pid=N iter=K                      every second (K: sweeps so far)
              done pid=N iter=K                 when it stops
            It runs until --seconds pass or SIGTERM/SIGINT (a clean stop, exit 0). \
            Scenarios with several processes re-execute this binary for each one \
            and stop them all on SIGTERM; their memory goes with them.

            Examples (in a 2x2 lab guest):
              numa-workload misplaced --mib 256 --mem-node 0 --cpu-node 1
              numa-workload shm-group --groups 2 --procs 2 --mib 64 --seconds 30
              numa-workload split --mib 128 --share 0:0.7,1:0.3 --idle
              numa-workload sparse-heap --reserve-mib 4096 --touch-mib 128
              numa-workload supervisor --groups 2 --procs 2 --mib 32
              numa-workload cpu-pin --cpus 0,2 --mem-nodes 1,0 --mib 32
              numa-workload many-threads --threads 64 --mib 64
              numa-workload hugetlb --mib 64 --label moved
            """,
        subcommands: [
            MisplacedCommand.self, Numa01Command.self, Numa01ThreadAllocCommand.self,
            Numa02Command.self, ShmGroupCommand.self, SplitCommand.self, WorkerCommand.self,
            SharedAnonCommand.self, ProbeCommand.self,
            SparseHeapCommand.self, SupervisorCommand.self, CPUPinCommand.self, ManyThreadsCommand.self,
            HugeTLBCommand.self, ManyMappingsCommand.self,
        ]
    )
}

/// Options every scenario takes.
struct RunOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Stop after this many seconds (default: until SIGTERM or SIGINT).",
                               valueName: "s"))
    var seconds: Double?

    @Flag(help: "Touch the memory once, then sleep: placement without CPU noise.")
    var idle = false

    @Option(help: "Seed for the random choices (split's block layout).")
    var seed: UInt64 = 1

    var length: RunLength { RunLength(seconds: seconds, idle: idle) }

    /// The same options, for a worker process.
    var workerArguments: [String] {
        (seconds.map { ["--seconds", "\($0)"] } ?? []) + (idle ? ["--idle"] : []) + ["--seed", "\(seed)"]
    }

    func validate() throws {
        if let seconds, !(seconds > 0) { throw ValidationError("--seconds must be positive") }
    }
}

/// Runs a scenario body, turning a WorkloadError into a message and exit code 1.
func runScenario(_ body: () throws -> Int32) throws {
    do {
        try NodeCPUs.requireNUMA()
        let code = try body()
        if code != 0 { throw ExitCode(code) }
    } catch let error as WorkloadError {
        Output.error(error.description)
        throw ExitCode.failure
    }
}
