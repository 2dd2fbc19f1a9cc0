import CLinux
import CNUMA
import Glibc
import NUMAModel
import NUMAProc

/// The kernel boundary on Linux: procfs reads through NUMAProc, syscalls
/// through the CLinux shim, each failure an `SyscallError` naming the call.
public struct LinuxKernel: KernelInterface {
    public var procfs: ProcFS
    /// Where cgroup v2 is mounted (nil: no cpuset limits are read).
    public var cgroupRoot: String?
    public let pageSize: UInt64

    public init(procfs: ProcFS = ProcFS(), cgroupRoot: String? = CgroupMount.v2Root()) {
        self.procfs = procfs
        self.cgroupRoot = cgroupRoot
        pageSize = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 4096))
    }

    public func process(_ pid: Int32) -> Result<ProcessFacts, ActuationError> {
        do {
            let stat = try procfs.stat(pid)
            let status = try procfs.status(pid)
            return .success(ProcessFacts(
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
        let opened = Syscall.call("pidfd_open of pid \(pid)") { clinux_pidfd_open(pid) }
        // Checked after the pidfd is open: the pidfd then surely refers to this process.
        switch process(pid) {
        case .failure(let error):
            if case .success(let fd) = opened { Glibc.close(fd) }
            return .failure(error)
        case .success(let facts) where facts.identity != identity:
            if case .success(let fd) = opened { Glibc.close(fd) }
            return .failure(.processChanged(expected: identity, found: facts.identity))
        case .success:
            switch opened {
            case .success(let fd): return .success(PidfdWatch(fd: fd))
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

    public func affinity(ofThread tid: Int32) -> Result<CPUSet, SyscallError> {
        var words = [UInt64](repeating: 0, count: CPUWords.count)
        return Syscall.check("sched_getaffinity of thread \(tid)") {
            words.withUnsafeMutableBufferPointer { clinux_sched_getaffinity(tid, $0.baseAddress, $0.count) }
        }.map { CPUWords.set(from: words) }
    }

    public func setAffinity(ofThread tid: Int32, to cpus: CPUSet) -> Result<Void, SyscallError> {
        let words = CPUWords.words(of: cpus)
        return Syscall.check("sched_setaffinity of thread \(tid) to CPUs \(cpus)") {
            words.withUnsafeBufferPointer { clinux_sched_setaffinity(tid, $0.baseAddress, $0.count) }
        }
    }

    public func presentPages(pid: Int32, range: AddressRange, step: UInt64) -> [UInt64]? {
        PageMap.presentPages(procRoot: procfs.root, pid: pid, start: range.start, end: range.end,
                             pageSize: pageSize, step: step)
    }

    public func queryPages(pid: Int32, addresses: [UInt64]) -> Result<[Int32], SyscallError> {
        callMovePages("move_pages query of pid \(pid)", pid: pid, addresses: addresses, nodes: nil, flags: 0)
            .map(\.statuses)
    }

    public func movePages(pid: Int32, addresses: [UInt64], nodes: [Int32], moveShared: Bool)
        -> Result<PageMoveResult, SyscallError>
    {
        let flags = moveShared ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE
        return callMovePages("move_pages of pid \(pid)", pid: pid, addresses: addresses, nodes: nodes,
                             flags: Int32(flags))
    }

    public func migratePages(pid: Int32, from: [NodeID], to: [NodeID]) -> Result<Int, SyscallError> {
        let old = NodeMaskWords(from), new = NodeMaskWords(to)
        return Syscall.call("migrate_pages of pid \(pid) from nodes \(from) to \(to)") {
            old.words.withUnsafeBufferPointer { o in
                new.words.withUnsafeBufferPointer { n in
                    clinux_migrate_pages(pid, NodeMaskWords.maxnode, o.baseAddress, n.baseAddress)
                }
            }
        }.map { Int($0) }
    }

    public func openSharedObject(pid: Int32, mapping: Mapping, window: Range<UInt64>)
        -> Result<any SharedObjectView, SyscallError>
    {
        LinuxSharedObjectView.open(pid: pid, mapping: mapping, window: window, pageSize: pageSize)
            .map { $0 as any SharedObjectView }
    }

    public func migratedPagesCounter() -> UInt64? { vmstatValue("pgmigrate_success", root: procfs.root) }

    public func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    public func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }

    /// The raw syscall with a status array; `nodes` nil is a query.
    private func callMovePages(_ operation: String, pid: Int32, addresses: [UInt64], nodes: [Int32]?,
                               flags: Int32) -> Result<PageMoveResult, SyscallError> {
        guard !addresses.isEmpty else { return .success(PageMoveResult(statuses: [], notMigrated: 0)) }
        var pointers = addresses.map { UnsafeMutableRawPointer(bitPattern: UInt($0)) }
        // Entries the kernel never writes (it stopped early) keep this mark.
        var statuses = [Int32](repeating: nodes == nil ? 0 : PageMoveResult.unprocessed, count: addresses.count)
        let result = Syscall.call(operation) {
            pointers.withUnsafeMutableBufferPointer { pages in
                statuses.withUnsafeMutableBufferPointer { status in
                    if let nodes {
                        return nodes.withUnsafeBufferPointer {
                            clinux_move_pages(pid, UInt(pages.count), pages.baseAddress, $0.baseAddress,
                                              status.baseAddress, flags)
                        }
                    }
                    return clinux_move_pages(pid, UInt(pages.count), pages.baseAddress, nil,
                                             status.baseAddress, flags)
                }
            }
        }
        return result.map { PageMoveResult(statuses: statuses, notMigrated: Int($0)) }
    }
}

/// Exit of a process seen through its pidfd (readable once it has exited).
struct PidfdWatch: ProcessWatch {
    let fd: Int32
    var hasExited: Bool { clinux_pidfd_exited(fd) != 0 }
    func close() { Glibc.close(fd) }
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

/// CPU sets as the 64-bit word arrays of sched_{get,set}affinity (bit i is CPU i).
enum CPUWords {
    /// Enough words for every configured CPU, at least 1024 CPUs.
    static let count = max(16, (Int(sysconf(Int32(_SC_NPROCESSORS_CONF))) + 63) / 64)

    static func words(of cpus: CPUSet) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: max(count, ((cpus.ids.last ?? 0) / 64) + 1))
        for cpu in cpus where cpu >= 0 { words[cpu / 64] |= 1 << UInt64(cpu % 64) }
        return words
    }

    static func set(from words: [UInt64]) -> CPUSet {
        var ids: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { ids.append(index * 64 + bit) }
        }
        return CPUSet(ids)
    }
}

/// A node mask for mbind/migrate_pages/get_mempolicy: 1024 bits of
/// unsigned long, passed with maxnode one past the bits, as libnuma does.
struct NodeMaskWords {
    static let bits = 1024
    static let maxnode = UInt(bits + 1)
    var words: [UInt]

    init(_ nodes: [NodeID] = []) {
        words = [UInt](repeating: 0, count: Self.bits / UInt.bitWidth)
        for node in nodes where node.rawValue >= 0 && node.rawValue < Self.bits {
            words[node.rawValue / UInt.bitWidth] |= 1 << UInt(node.rawValue % UInt.bitWidth)
        }
    }

    var nodes: [NodeID] {
        var result: [NodeID] = []
        for (index, word) in words.enumerated() where word != 0 {
            for bit in 0..<UInt.bitWidth where word & (1 << UInt(bit)) != 0 {
                result.append(NodeID(index * UInt.bitWidth + bit))
            }
        }
        return result
    }
}
