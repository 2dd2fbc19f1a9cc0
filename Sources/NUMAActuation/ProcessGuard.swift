import NUMAModel
import NUMASystem

/// The safety checks before any action (DESIGN.md, "Safety"): the pid still
/// names the process that was observed (pid + start time, then a pidfd),
/// it still runs the program it ran when sampled (an exec keeps pid and
/// start time), and it is none of pid 1, a kernel thread, a zombie or
/// numabalance itself.
public enum ProcessGuard {
    public static func check(_ identity: ProcessIdentity, kernel: any KernelInterface, selfPID: Int32,
                             sampled image: ProgramImage? = nil) -> Result<TargetProcess, ActuationError>
    {
        let pid = identity.pid
        if pid <= 1 { return .failure(.refused(pid: pid, why: "pid 1 (init) and pid 0 are never acted on")) }
        if pid == selfPID { return .failure(.refused(pid: pid, why: "it is numabalance itself")) }
        return kernel.process(pid).flatMap { facts in
            if facts.identity != identity { return .failure(.processChanged(expected: identity, found: facts.identity)) }
            if facts.isExitingOrZombie { return .failure(.exited(pid: pid)) }
            if let image, let now = facts.image, now != image {
                return .failure(.refused(pid: pid, why: "it runs another program since it was sampled "
                    + "(an exec: \(image) then, \(now) now); looked at afresh next round"))
            }
            if facts.isKernelThread {
                return .failure(.refused(pid: pid, why: "\(TerminalText.escaped(facts.comm)) is a kernel thread: it has no user memory and its affinity is the kernel's"))
            }
            return .success(facts)
        }
    }

    /// Checks, then watches the process for exit while acting on it.
    public static func watch(_ identity: ProcessIdentity, kernel: any KernelInterface, selfPID: Int32,
                             sampled image: ProgramImage? = nil) -> Result<(TargetProcess, any ProcessWatch), ActuationError>
    {
        check(identity, kernel: kernel, selfPID: selfPID, sampled: image).flatMap { facts in
            kernel.watch(identity).map { (facts, $0) }
        }
    }
}

/// Sets the affinity of every thread of a process: threads come and go, so
/// /proc/pid/task is read again until a pass finds no thread it has not set.
struct AffinitySetter {
    let kernel: any KernelInterface
    static let maxPasses = 16

    /// Every thread's affinity now (what a change would replace).
    func snapshot(pid: Int32) -> Result<[ThreadAffinity], ActuationError> {
        kernel.threadIDs(pid).map { tids in
            tids.compactMap { tid in (try? kernel.affinity(ofThread: tid).get()).map { ThreadAffinity(tid: tid, cpus: $0) } }
        }
    }

    /// The CPUs to set: `cpus` within the cgroup's effective CPUs.
    func allowedCPUs(_ cpus: CPUSet, pid: Int32) -> Result<CPUSet, ActuationError> {
        guard let limit = kernel.cpuset(pid)?.cpus else { return .success(cpus) }
        let allowed = cpus.intersection(limit)
        guard !allowed.isEmpty else {
            return .failure(.refused(pid: pid, why: "none of CPUs \(cpus) is in its cgroup's cpuset (\(limit))"))
        }
        return .success(allowed)
    }

    func apply(pid: Int32, cpus wanted: CPUSet, watch: any ProcessWatch, started: Double)
        -> (ActionOutcome, Replaced?)
    {
        let cpus: CPUSet
        switch allowedCPUs(wanted, pid: pid) {
        case .success(let set): cpus = set
        case .failure(let error): return (.failed(error), nil)
        }
        var before: [Int32: CPUSet] = [:]
        var changed = 0
        var quiet = false
        for pass in 0..<Self.maxPasses {
            let tids: [Int32]
            switch kernel.threadIDs(pid) {
            case .success(let list): tids = list
            case .failure(let error):
                if watch.hasExited || error == .noSuchProcess(pid: pid) { return exited(pid, changed, before, started) }
                return (.failed(error, seconds: kernel.now() - started), replaced(before))
            }
            let fresh = tids.filter { before[$0] == nil }
            if fresh.isEmpty && pass > 0 { quiet = true; break }
            for tid in fresh {
                // A thread that ends between the listing and the call is no error.
                guard case .success(let old) = kernel.affinity(ofThread: tid) else { continue }
                before[tid] = old
                if old == cpus { continue }
                switch kernel.setAffinity(ofThread: tid, to: cpus) {
                case .success: changed += 1
                case .failure(let error) where error.errno == Errno.noSuchProcess: continue  // ESRCH: the thread ended
                case .failure(let error):
                    let text = error.errno == Errno.notPermitted
                        ? "not permitted to set the affinity of pid \(pid): another user's process needs CAP_SYS_NICE (\(error))"
                        : error.description
                    return (ActionOutcome(status: .failed, summary: "set \(changed) thread(s) before the error",
                                          threads: changed, seconds: kernel.now() - started, error: text),
                            replaced(before))
                }
            }
        }
        if before.isEmpty, watch.hasExited { return exited(pid, changed, before, started) }
        var summary = changed == 0
            ? "all \(before.count) thread(s) already on CPUs \(cpus)"
            : "set \(changed) of \(before.count) thread(s) to CPUs \(cpus)"
        // Threads still appearing after the last pass may have inherited the
        // old mask from a thread not yet set (security review 4.3).
        if !quiet { summary += "; new threads kept appearing through \(Self.maxPasses) passes" }
        return (ActionOutcome(status: quiet ? .done : .partial, summary: summary, method: "sched_setaffinity per thread",
                              threads: changed, seconds: kernel.now() - started), replaced(before))
    }

    private func replaced(_ before: [Int32: CPUSet]) -> Replaced? {
        guard !before.isEmpty else { return nil }
        return Replaced(affinity: before.keys.sorted().compactMap { tid in before[tid].map { ThreadAffinity(tid: tid, cpus: $0) } })
    }

    private func exited(_ pid: Int32, _ changed: Int, _ before: [Int32: CPUSet], _ started: Double)
        -> (ActionOutcome, Replaced?)
    {
        (ActionOutcome(status: .exited, summary: "pid \(pid) exited after \(changed) thread(s) were set",
                       threads: changed, seconds: kernel.now() - started), replaced(before))
    }
}
