import NUMAModel
import NUMAProc
import NUMASystem

/// The kernel boundary on Linux: procfs reads through NUMAProc, syscalls
/// through NUMASystem, each failure a `SystemError` naming the call.
public struct LinuxKernel: KernelInterface {
    public var procfs: ProcFS
    /// Where cgroup v2 is mounted (nil: no cpuset limits are read).
    public var cgroupRoot: String?
    public let pageSize: UInt64

    public init(procfs: ProcFS = ProcFS(), cgroupRoot: String? = CgroupMount.mountedV2Root()) {
        self.procfs = procfs
        self.cgroupRoot = cgroupRoot
        pageSize = UInt64(Host.pageSize)
    }

    public func process(_ pid: Int32) -> Result<TargetProcess, ActuationError> {
        do {
            let stat = try procfs.stat(pid)
            let status = try procfs.status(pid)
            return .success(TargetProcess(
                identity: ProcessIdentity(pid: pid, startTime: stat.startTimeTicks), comm: stat.comm,
                // stat's PF_KTHREAD decides; status's guess (no mm) also fits a
                // user process past exit_mm, which is exiting, not a kernel thread.
                isKernelThread: stat.isKernelThread || (status.isKernelThread && !stat.isExiting), uids: status.uids,
                isZombie: stat.state == "Z" || stat.state == "X", isExiting: stat.isExiting,
                memsAllowed: status.memsAllowed,
                image: status.uids.count > 1 ? procfs.programImage(pid, euid: status.uids[1]) : nil))
        } catch {
            return .failure(.from(error, pid: pid))
        }
    }

    public func watch(_ identity: ProcessIdentity) -> Result<any ProcessWatch, ActuationError> {
        let pid = identity.pid
        let opened = ProcessHandle.open(pid: pid)
        // Checked after the pidfd is open: the pidfd then surely refers to this process.
        switch process(pid) {
        case .failure(let error):
            if case .success(let handle) = opened { handle.close() }
            return .failure(error)
        case .success(let facts) where facts.identity != identity:
            if case .success(let handle) = opened { handle.close() }
            return .failure(.processChanged(expected: identity, found: facts.identity))
        case .success:
            switch opened {
            case .success(let handle): return .success(PidfdWatch(handle: handle))
            // Before Linux 5.3: the start time tells a reused pid.
            case .failure: return .success(ProcfsWatch(identity: identity, procfs: procfs))
            }
        }
    }

    public func threadIDs(_ pid: Int32) -> Result<[Int32], ActuationError> {
        do { return .success(try procfs.threadIDs(pid)) } catch { return .failure(.from(error, pid: pid)) }
    }

    public func mappings(_ pid: Int32) -> Result<[Mapping], ActuationError> {
        do { return .success(try procfs.maps(pid)) } catch { return .failure(.from(error, pid: pid)) }
    }

    public func cpuset(_ pid: Int32) -> EffectiveCpuset? {
        guard let cgroupRoot else { return nil }
        return try? procfs.effectiveCpuset(pid, cgroupRoot: cgroupRoot)
    }

    public func affinity(ofThread tid: Int32) -> Result<CPUSet, SystemError> {
        CPUMask.affinity(of: tid)
    }

    public func setAffinity(ofThread tid: Int32, to cpus: CPUSet) -> Result<Void, SystemError> {
        CPUMask.setAffinity(of: tid, to: cpus).mapError {
            SystemError("sched_setaffinity of thread \(tid) to CPUs \(cpus)", errno: $0.errno)
        }
    }

    public func presentPages(pid: Int32, range: AddressRange, step: UInt64) -> [UInt64]? {
        PageMap.presentPages(procRoot: procfs.root, pid: pid, start: range.start, end: range.end,
                             pageSize: pageSize, step: step)
    }

    public func queryPages(pid: Int32, addresses: [UInt64]) -> Result<[Int32], SystemError> {
        MemoryPolicy.queryPages(pid: pid, addresses: addresses[...], operation: "move_pages query of pid \(pid)")
    }

    public func movePages(pid: Int32, addresses: [UInt64], nodes: [Int32], moveShared: Bool)
        -> Result<PageMoveResult, SystemError>
    {
        MemoryPolicy.movePages(pid: pid, addresses: addresses[...], nodes: nodes, moveAll: moveShared,
                               operation: "move_pages of pid \(pid)")
            .map { PageMoveResult(statuses: $0.statuses, notMigrated: $0.notMoved) }
    }

    public func migratePages(pid: Int32, from: [NodeID], to: [NodeID]) -> Result<Int, SystemError> {
        MemoryPolicy.migratePages(pid: pid, from: from, to: to)
    }

    public func openSharedObject(pid: Int32, mapping: Mapping, window: Range<UInt64>)
        -> Result<any SharedObjectView, SystemError>
    {
        LinuxSharedObjectView.open(pid: pid, mapping: mapping, window: window, pageSize: pageSize)
            .map { $0 as any SharedObjectView }
    }

    public func migratedPagesCounter() -> UInt64? { vmstatValue("pgmigrate_success", procfs: procfs) }

    public func now() -> Double { Clock.monotonicSeconds() }

    public func sleep(seconds: Double) { Clock.sleep(seconds: seconds) }
}

/// Exit of a process seen through its pidfd (readable once it has exited).
struct PidfdWatch: ProcessWatch {
    let handle: ProcessHandle
    var hasExited: Bool { handle.hasExited }
    func close() { handle.close() }
}

/// Without pidfds: the process is gone when its pid has another start time or none.
struct ProcfsWatch: ProcessWatch {
    let identity: ProcessIdentity
    let procfs: ProcFS
    var hasExited: Bool {
        guard let stat = try? procfs.stat(identity.pid) else { return true }
        return stat.startTimeTicks != identity.startTime || stat.state == "Z" || stat.state == "X"
    }
    func close() {}
}
