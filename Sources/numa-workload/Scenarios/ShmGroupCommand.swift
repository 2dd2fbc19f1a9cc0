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

    @OptionGroup var shape: SegmentGroups
    @Option(help: "Segment size per group in MiB.") var mib = 64
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
    }

    func run() throws {
        try runScenario {
            var segments = try shape.placedSegments(mib: mib)
            defer { segments.forEach { $0.detach() } }
            let workers = shape.workers(of: segments, options: options)
            return try Coordinator(workers: workers).run {
                // Every member holds its segment now; this process lets go.
                segments.forEach { $0.detach() }
                segments.removeAll()
            }
        }
    }
}
