// supervisor: a postmaster-like parent that creates every shared segment,
// places it, starts the workers of each group and then keeps every segment
// attached while doing nothing (the shape a balancer must not mistake for
// a member of every group).
import ArgumentParser
import Glibc

struct SupervisorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervisor",
        abstract: "An idle parent holding G SysV segments; G groups of K workers, each group sweeping its own segment.",
        discussion: """
            This process creates one SysV segment per group, first-touches it on \
            --mem-node (so its own page tables map every page), marks it for removal \
            (IPC_RMID: a killed run leaves nothing behind), and starts the workers \
            (re-executing itself; a worker attaches its group's segment by id). \
            Unlike shm-group, it never detaches: it keeps every segment attached \
            and sleeps until SIGTERM, never pinned, never touching the segments \
            again. Workers are not pinned. Ready lines: one per worker (shmid=ID \
            group=G), then the parent's (role=supervisor shmids=ID,ID).
            """
    )

    @Option(help: "Groups.") var groups = 2
    @Option(help: "Worker processes per group.") var procs = 2
    @Option(help: "Segment size per group in MiB.") var mib = 32
    @Option(help: "Threads per worker.") var threads = 1
    @Option(help: "The node every segment is first touched on.") var memNode = 0
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard groups >= 1, procs >= 1 else { throw ValidationError("--groups and --procs must be at least 1") }
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try runScenario {
            try NodeCPUs.requireMemory(on: memNode)
            var segments: [SharedSegment] = []
            defer { segments.forEach { $0.detach() } }
            for _ in 0..<groups {
                let segment = try SharedSegment.create(bytes: mib << 20)
                try segment.markForRemoval()
                segments.append(segment)
                try MemoryPolicy.bound(to: memNode) { segment.region.touch(0..<segment.region.size) }
            }
            let workers = segments.enumerated().flatMap { group, segment in
                (0..<procs).map { _ in
                    ["--shm-id", "\(segment.id)", "--threads", "\(threads)", "--field", "group=\(group)"]
                        + options.workerArguments
                }
            }
            let ids = segments.map { "\($0.id)" }.joined(separator: ",")
            return try Coordinator(workers: workers).run {
                // Every worker is placed; this process stays attached and idle.
                Output.line("ready pid=\(getpid()) role=supervisor groups=\(groups) shmids=\(ids) mib=\(mib) mem-node=\(memNode)")
            }
        }
    }
}
