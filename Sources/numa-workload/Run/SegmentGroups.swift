// Groups of worker processes, each group sharing one SysV segment: the
// shape of shm-group and supervisor.
import ArgumentParser

struct SegmentGroups: ParsableArguments {
    @Option(help: "Groups.") var groups = 2
    @Option(help: "Processes per group.") var procs = 2
    @Option(help: "Threads per process.") var threads = 1
    @Option(help: "The node every segment is first touched on.") var memNode = 0

    func validate() throws {
        guard groups >= 1, procs >= 1 else { throw ValidationError("--groups and --procs must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    /// One segment per group of `mib` MiB, first touched on --mem-node and
    /// marked for removal at once (IPC_RMID: a killed run leaves none behind).
    /// On an error the segments made so far are detached.
    func placedSegments(mib: Int) throws -> [SharedSegment] {
        try NodeCPUs.requireMemory(on: memNode)
        var segments: [SharedSegment] = []
        do {
            for _ in 0..<groups {
                let segment = try SharedSegment.create(bytes: mib << 20)
                segments.append(segment)
                try segment.markForRemoval()
                try MemoryPolicy.bound(to: memNode) { segment.region.touch(0..<segment.region.size) }
            }
        } catch {
            segments.forEach { $0.detach() }
            throw error
        }
        return segments
    }

    /// The worker command lines: --procs per segment, each attaching it by id.
    func workers(of segments: [SharedSegment], options: RunOptions) -> [[String]] {
        segments.enumerated().flatMap { group, segment in
            (0..<procs).map { _ in
                ["--shm-id", "\(segment.id)", "--threads", "\(threads)", "--field", "group=\(group)"]
                    + options.workerArguments
            }
        }
    }
}
