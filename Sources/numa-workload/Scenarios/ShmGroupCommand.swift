// shm-group: groups of processes, each group sharing one SysV segment (the
// database shared-buffers case neither the kernel balancer nor numad fixes).
import ArgumentParser

struct ShmGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shm-group",
        abstract: "G groups of K processes; each group shares one SysV shm segment first touched on --mem-node.",
        discussion: """
            This process creates and places every segment, marks it for removal \
            (IPC_RMID) at once, starts the members (which attach by id: Linux \
            allows that while the segment is still attached somewhere), and \
            detaches once every member is attached. So a segment lives exactly as \
            long as its members, and a killed workload leaves none behind. \
            Members are not pinned; each prints its segment in its ready line \
            (shmid=ID group=G).
            """
    )

    @Option(help: "Groups.") var groups = 2
    @Option(help: "Processes per group.") var procs = 2
    @Option(help: "Segment size per group in MiB.") var mib = 64
    @Option(help: "Threads per process.") var threads = 1
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
            return try Coordinator(workers: workers).run {
                // Every member holds its segment now; this process lets go.
                segments.forEach { $0.detach() }
                segments.removeAll()
            }
        }
    }
}
