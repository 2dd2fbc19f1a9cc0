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

    @OptionGroup var shape: SegmentGroups
    @Option(help: "Segment size per group in MiB.") var mib = 32
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard mib > 0 else { throw ValidationError("--mib must be positive") }
    }

    func run() throws {
        try runScenario {
            let segments = try shape.placedSegments(mib: mib)
            defer { segments.forEach { $0.detach() } }
            let workers = shape.workers(of: segments, options: options)
            let ids = segments.map { "\($0.id)" }.joined(separator: ",")
            return try Coordinator(workers: workers).run {
                // Every worker is placed; this process stays attached and idle.
                Output.line("ready pid=\(getpid()) role=supervisor groups=\(shape.groups) shmids=\(ids) mib=\(mib) mem-node=\(shape.memNode)")
            }
        }
    }
}
