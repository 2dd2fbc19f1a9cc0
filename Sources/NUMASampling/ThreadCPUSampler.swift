import NUMAModel
import NUMAProc
import NUMASystem

/// One reading of a thread's accumulated CPU time and last CPU.
public struct ThreadReading: Hashable, Sendable {
    public var cpuTicks: UInt64
    public var processor: Int
    public var state: Character
    /// The thread's own CPU affinity (threads may each have one: per-vCPU
    /// pins); nil when it could not be read.
    public var affinity: CPUSet? = nil
}

/// The CPU side of locality: each thread's CPU time over an interval,
/// attributed to the node of the CPU it last ran on (the userspace stand-in
/// for the kernel's CPU-side NUMA faults).
public struct ThreadCPUSampler: Sendable {
    public var procfs: ProcFS
    public var ticksPerSecond: Double

    public init(procfs: ProcFS) {
        self.procfs = procfs
        self.ticksPerSecond = Double(Host.clockTicksPerSecond)
    }

    /// Reads every thread of `pid`, with each thread's affinity when asked
    /// (a baseline needs only CPU time). Threads that exit between listing
    /// and reading are skipped: they are a normal event, not an error.
    public func read(pid: Int32, affinities: Bool = true) throws(ProcReadError) -> [Int32: ThreadReading] {
        var result: [Int32: ThreadReading] = [:]
        for tid in try procfs.threadIDs(pid) {
            guard let stat = try? procfs.taskStat(pid, tid) else { continue }
            result[tid] = ThreadReading(cpuTicks: stat.cpuTicks, processor: stat.processor,
                                        state: stat.state, affinity: affinities ? affinity(pid: pid, tid: tid) : nil)
        }
        if result.isEmpty, !procfs.exists(pid) { throw .noSuchProcess(pid: pid) }
        return result
    }

    /// sched_getaffinity on the live system (one syscall, no file); the
    /// task's status file under a fixture root.
    func affinity(pid: Int32, tid: Int32) -> CPUSet? {
        if procfs.root == "/proc" { return try? CPUMask.affinity(of: tid).get() }
        guard let text = try? procfs.read(pid, "task/\(tid)/status"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        return try? CPUSet(listFormat: String(line.dropFirst("Cpus_allowed_list:".count)).trimmingWhitespace())
    }

    /// Per-thread pins: the affinities that differ from the main thread's, each once.
    public static func otherAffinities(_ readings: [Int32: ThreadReading], main: CPUSet) -> [CPUSet] {
        var seen: [CPUSet] = []
        for tid in readings.keys.sorted() {
            guard let set = readings[tid]?.affinity, set != main, !seen.contains(set) else { continue }
            seen.append(set)
        }
        return seen
    }

    /// Activity between two readings. A thread born in the interval counts
    /// all its time (it began at zero); one that died is gone with its time.
    public func activity(before: [Int32: ThreadReading], after: [Int32: ThreadReading],
                         topology: Topology) -> [ThreadActivity] {
        after.keys.sorted().compactMap { tid in
            guard let now = after[tid] else { return nil }
            let then = before[tid]?.cpuTicks ?? 0
            let ticks = now.cpuTicks >= then ? now.cpuTicks - then : 0
            return ThreadActivity(tid: tid, cpuSeconds: Double(ticks) / ticksPerSecond,
                                  lastCPU: now.processor,
                                  node: topology.node(ofCPU: now.processor), state: now.state)
        }
    }
}
