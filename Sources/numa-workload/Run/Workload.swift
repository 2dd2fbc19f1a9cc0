// One workload process: place its memory, start its threads, say `ready`,
// print progress every second, and stop cleanly on --seconds or SIGTERM.
import Glibc

/// Where a process's memory comes from and where it is first touched.
enum MemorySource: Sendable {
    /// A private mapping first-touched on `node`.
    case privateMemory(mib: Int, node: Int)
    /// A private mapping whose 64 KiB blocks are first-touched per `plan`.
    case split(mib: Int, plan: SplitPlan)
    /// A SysV segment some other process created and placed.
    case segment(id: Int32)
}

/// Everything one workload process does.
struct WorkerPlan: Sendable {
    var memory: MemorySource
    var threads: Int
    /// Each thread its own slice (THREAD_ALLOC, numa02) or all threads the whole buffer.
    var sliced: Bool
    /// Pin every thread to this node's CPUs once the memory is placed.
    var cpuNode: Int?
    /// Extra `key=value` fields for the ready line.
    var fields: [String] = []
}

/// How long it runs and whether it works at all after placing memory.
struct RunLength: Sendable {
    /// nil: until SIGTERM or SIGINT.
    var seconds: Double?
    /// Touch once, then sleep: no CPU noise for accuracy tests.
    var idle: Bool
}

enum Workload {
    /// Runs `plan` in this process; returns the exit code. `readyDescriptor`,
    /// when given, gets one byte once the memory is placed and the threads run
    /// (the shm-group coordinator waits for it before detaching).
    static func run(_ plan: WorkerPlan, length: RunLength, readyDescriptor: Int32? = nil) throws -> Int32 {
        let signals = StopSignals.block()
        let placed = try place(plan.memory)
        defer { placed.release() }
        let cpus = try plan.cpuNode.map { try NodeCPUs.cpus(of: $0) }

        // Threads are created before the main thread moves, and pin
        // themselves: what creating them touches (stack tops, often a whole
        // transparent huge page) is then first-touched where the memory is.
        let state = SweepState()
        let threadCount = length.idle ? 0 : max(1, plan.threads)
        let threads = try SweepThreads.start(count: threadCount, region: placed.region,
                                             sliced: plan.sliced, cpus: cpus, state: state)
        let failures = state.awaitRunning(threadCount)
        if let cpus { try NodeCPUs.pinCurrentThread(to: cpus) }
        state.reportPinFailures(failures)

        let pid = getpid()
        let fields = ["threads=\(threadCount)", "mib=\(placed.region.size >> 20)"] + placed.fields + plan.fields
        Output.line((["ready", "pid=\(pid)"] + fields).joined(separator: " "))
        if let readyDescriptor {
            var byte: UInt8 = 1
            _ = write(readyDescriptor, &byte, 1)
            close(readyDescriptor)
        }

        let deadline = length.seconds.map { monotonicSeconds() + $0 }
        while true {
            let wait = min(1.0, deadline.map { $0 - monotonicSeconds() } ?? 1.0)
            if wait <= 0 || signals.wait(seconds: wait) != nil { break }
            if !length.idle {
                Output.line("pid=\(pid) iter=\(state.sweeps.load(ordering: .relaxed))")
            }
        }
        state.stop.store(true, ordering: .relaxed)
        SweepThreads.join(threads)
        Output.line("done pid=\(pid) iter=\(state.sweeps.load(ordering: .relaxed))")
        return 0
    }

    /// The process's memory, placed, with the ready line's fields about it.
    struct Placed {
        var region: MemoryRegion
        var fields: [String]
        var release: () -> Void
    }

    static func place(_ source: MemorySource) throws -> Placed {
        switch source {
        case .privateMemory(let mib, let node):
            try NodeCPUs.requireMemory(on: node)
            let region = try MemoryRegion.map(bytes: mib << 20)
            try MemoryPolicy.bound(to: node) { region.touch(0..<region.size) }
            return Placed(region: region, fields: ["mem-node=\(node)"], release: region.unmap)
        case .split(let mib, let plan):
            let region = try MemoryRegion.map(bytes: mib << 20)
            region.disableHugePages()
            let counts = try plan.place(region)
            let blocks = counts.map { "\($0.node):\($0.blocks)" }.joined(separator: ",")
            return Placed(region: region, fields: ["blocks=\(blocks)"], release: region.unmap)
        case .segment(let id):
            let segment = try SharedSegment.attach(id: id)
            return Placed(region: segment.region, fields: ["shmid=\(id)"], release: segment.detach)
        }
    }
}
