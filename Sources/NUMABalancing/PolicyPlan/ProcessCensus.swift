import Foundation
import NUMAModel
import NUMAPolicy
import NUMAProc
import NUMASampling
import NUMASystem

/// One running process as policy matching sees it, with the CPU readings
/// that start its sampling interval.
public struct RunningProcess: Sendable {
    public var identity: ProcessIdentity
    public var facts: ProcessFacts
    /// Thread readings at the start of the interval: the sampler's baseline.
    public var baseline: [Int32: ThreadReading]
}

/// Every user process of the machine, read from /proc: kernel threads,
/// zombies and this process itself are left out. The facts are those the
/// daemon matches on (ProcessFactsReader), and the CPU used
/// over `interval` (so `minCPU` matches as in the daemon's second round).
public struct ProcessCensus {
    public var procfs = ProcFS()
    public var interval: Duration = .milliseconds(500)

    public init(procfs: ProcFS = ProcFS(), interval: Duration = .milliseconds(500)) {
        self.procfs = procfs
        self.interval = interval
    }

    public func take() -> (processes: [RunningProcess], startedAt: Double) {
        let me = Host.pid
        let reader = ProcessFactsReader(procfs: procfs)
        let threads = ThreadCPUSampler(procfs: procfs)
        var first: [(stat: TaskStat, baseline: [Int32: ThreadReading])] = []
        let started = Clock.monotonicSeconds()
        for pid in procfs.pids() where pid != me {
            guard let stat = try? procfs.stat(pid), !stat.isKernelThread, stat.state != "Z", stat.state != "X",
                  let baseline = try? threads.read(pid: pid) else { continue }
            first.append((stat, baseline))
        }
        let remaining = interval - .seconds(Clock.monotonicSeconds() - started)
        if remaining > .zero { Clock.sleep(for: remaining) }
        let elapsed = max(Clock.monotonicSeconds() - started, 0.001)
        var result: [RunningProcess] = []
        for (before, baseline) in first {
            let pid = before.pid
            guard let stat = try? procfs.stat(pid), stat.startTimeTicks == before.startTimeTicks else { continue }
            let ticks = stat.cpuTicks >= before.cpuTicks ? stat.cpuTicks - before.cpuTicks : 0
            guard let facts = reader.facts(pid, stat: stat,
                                           cpuShare: Double(ticks) / threads.ticksPerSecond / elapsed) else { continue }
            result.append(RunningProcess(identity: ProcessIdentity(pid: pid, startTime: stat.startTimeTicks),
                                         facts: facts, baseline: baseline))
        }
        return (result, started)
    }
}
