import Glibc
import NUMAModel
import NUMAProc

/// One reading of a thread's accumulated CPU time and last CPU.
public struct ThreadReading: Hashable, Sendable {
    public var cpuTicks: UInt64
    public var processor: Int
    public var state: Character
}

/// The CPU side of locality: each thread's CPU time over an interval,
/// attributed to the node of the CPU it last ran on (the userspace stand-in
/// for the kernel's CPU-side NUMA faults).
public struct ThreadCPUSampler: Sendable {
    public var procfs: ProcFS
    public var ticksPerSecond: Double

    public init(procfs: ProcFS) {
        self.procfs = procfs
        self.ticksPerSecond = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
    }

    /// Reads every thread of `pid`. Threads that exit between listing and
    /// reading are skipped: they are a normal event, not an error.
    public func read(pid: Int32) throws(ProcReadError) -> [Int32: ThreadReading] {
        var result: [Int32: ThreadReading] = [:]
        for tid in try procfs.threadIDs(pid) {
            guard let stat = try? procfs.taskStat(pid, tid) else { continue }
            result[tid] = ThreadReading(cpuTicks: stat.cpuTicks, processor: stat.processor,
                                        state: stat.state)
        }
        if result.isEmpty, !procfs.exists(pid) { throw .noSuchProcess(pid: pid) }
        return result
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
