// A fake kernel for the actuator's unit tests: processes, threads,
// affinities and page placement in memory; every call recorded, the
// state-changing ones separately, and a clock that moves only when slept.
import Glibc
import NUMAActuation
import NUMAModel
import NUMAProc
import NUMASystem
import Synchronization

final class RecordingKernel: KernelInterface {
    struct State {
        var processes: [Int32: TargetProcess] = [:]
        var threads: [Int32: [Int32]] = [:]
        var affinity: [Int32: CPUSet] = [:]
        /// pid → page address → node.
        var pages: [Int32: [UInt64: Int32]] = [:]
        var maps: [Int32: [Mapping]] = [:]
        var calls: [String] = []
        var changes: [String] = []
        var clock = 100.0
        var slept = 0.0
        var moveBatches: [Int] = []
        /// The threads move_pages was called from (a split move's runs).
        var moveThreads = Set<UInt>()
        /// Clock time each page of a move_pages call takes (0: instant).
        var secondsPerMovedPage = 0.0
        /// As the kernel does when a run of pages fails: the call handles its
        /// first run of pages bound for one node, and no further.
        var oneRunPerCall = false
        /// After this many move_pages calls the process exits (ESRCH).
        var exitAfterMoves: [Int32: Int] = [:]
        /// Processes whose memory is gone (past exit_mm): move_pages says EINVAL.
        var memoryGone: Set<Int32> = []
        var migratedCounter: UInt64 = 0
        /// Shared objects can be opened (else every open is refused, EPERM);
        /// their pages live in pid 0's table (the caller's address space).
        var objectsOpen = false
        /// A process whose every listing shows one thread more (a pool that keeps growing).
        var spawnsOnListing: Set<Int32> = []
        /// The shared object's policy (one object in these tests).
        var objectPolicy = MemoryPolicySpec(mode: .default)
        /// An open of a shared object finds its map_files entry gone (ENOENT);
        /// with `exitsOnObjectOpen` the process is gone too (it exited meanwhile).
        var objectEntryGone = false
        var exitsOnObjectOpen = false
        /// pagemap can be read: presentPages answers from `pages` (else nil, as unreadable).
        var pagemapReadable = false
    }

    /// Where an opened shared object's window starts in "our" address space.
    static let objectBase: UInt64 = 0x7000_0000_0000

    let pageSize: UInt64 = 4096
    let state = Mutex(State())

    func addProcess(pid: Int32, startTime: UInt64 = 1000, uid: UInt32 = 0, threads: [Int32]? = nil,
                    cpus: CPUSet = CPUSet([0, 1, 2, 3]), kernelThread: Bool = false) {
        state.withLock { s in
            s.processes[pid] = TargetProcess(identity: ProcessIdentity(pid: pid, startTime: startTime), comm: "proc\(pid)",
                                            isKernelThread: kernelThread, uids: [uid, uid, uid, uid])
            let tids = threads ?? [pid]
            s.threads[pid] = tids
            for tid in tids { s.affinity[tid] = cpus }
        }
    }

    /// `count` resident pages from `start`, all on `node`, in one eligible mapping.
    func addPages(pid: Int32, start: UInt64, count: Int, node: Int32) {
        state.withLock { s in
            for i in 0..<count { s.pages[pid, default: [:]][start + UInt64(i) * pageSize] = node }
            s.maps[pid, default: []].append(Mapping(start: start, end: start + UInt64(count) * pageSize))
        }
    }

    func identity(_ pid: Int32) -> ProcessIdentity { state.withLock { $0.processes[pid]!.identity } }
    var changes: [String] { state.withLock { $0.changes } }
    var calls: [String] { state.withLock { $0.calls } }
    func nodes(of pid: Int32) -> [Int32: Int] {
        state.withLock { s in (s.pages[pid] ?? [:]).values.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
    }

    private func log(_ call: String, changes: Bool = false) {
        state.withLock { s in
            s.calls.append(call)
            if changes { s.changes.append(call) }
        }
    }

    func process(_ pid: Int32) -> Result<TargetProcess, ActuationError> {
        log("process \(pid)")
        return state.withLock { $0.processes[pid] }.map { .success($0) } ?? .failure(.noSuchProcess(pid: pid))
    }

    func watch(_ identity: ProcessIdentity) -> Result<any ProcessWatch, ActuationError> {
        process(identity.pid).flatMap { facts in
            facts.identity == identity ? .success(FakeWatch(kernel: self, pid: identity.pid))
                : .failure(.processChanged(expected: identity, found: facts.identity))
        }
    }

    func threadIDs(_ pid: Int32) -> Result<[Int32], ActuationError> {
        state.withLock { s -> [Int32]? in
            if s.spawnsOnListing.contains(pid), let tids = s.threads[pid], let last = tids.last {
                s.threads[pid] = tids + [last + 1]
                s.affinity[last + 1] = s.affinity[pid]
            }
            return s.threads[pid]
        }.map { .success($0) } ?? .failure(.noSuchProcess(pid: pid))
    }

    func mappings(_ pid: Int32) -> Result<[Mapping], ActuationError> {
        state.withLock { s in s.processes[pid] == nil ? nil : s.maps[pid] ?? [] }.map { .success($0) }
            ?? .failure(.noSuchProcess(pid: pid))
    }

    func cpuset(_ pid: Int32) -> EffectiveCpuset? { nil }

    func affinity(ofThread tid: Int32) -> Result<CPUSet, SystemError> {
        log("getaffinity \(tid)")
        return state.withLock { $0.affinity[tid] }.map { .success($0) }
            ?? .failure(SystemError("sched_getaffinity of thread \(tid)", errno: 3))
    }

    func setAffinity(ofThread tid: Int32, to cpus: CPUSet) -> Result<Void, SystemError> {
        log("setaffinity \(tid) \(cpus)", changes: true)
        return state.withLock { s in
            guard s.affinity[tid] != nil else { return .failure(SystemError("sched_setaffinity", errno: 3)) }
            s.affinity[tid] = cpus
            return .success(())
        }
    }

    func presentPages(pid: Int32, range: AddressRange, step: UInt64) -> [UInt64]? {
        log("pagemap \(pid)")
        return state.withLock { s in
            guard s.pagemapReadable else { return nil }
            let resident = s.pages[pid] ?? [:]
            return resident.keys.filter { $0 >= range.start && $0 < range.end && ($0 - range.start) % step == 0 }.sorted()
        }
    }

    func queryPages(pid: Int32, addresses: [UInt64]) -> Result<[Int32], SystemError> {
        log("query \(pid) \(addresses.count)")
        return state.withLock { s in
            guard s.processes[pid] != nil else { return .failure(SystemError("move_pages", errno: 3)) }
            if s.memoryGone.contains(pid) { return .failure(SystemError("move_pages query", errno: 22)) }
            return .success(addresses.map { s.pages[pid]?[$0] ?? -2 })
        }
    }

    func movePages(pid: Int32, addresses: [UInt64], nodes: [Int32], moveShared: Bool) -> Result<PageMoveResult, SystemError> {
        log("move_pages \(pid) \(addresses.count)", changes: true)
        return state.withLock { s in
            if s.memoryGone.contains(pid) { return .failure(SystemError("move_pages", errno: 22)) }
            if let left = s.exitAfterMoves[pid] {
                if left <= 0 {
                    s.processes[pid] = nil
                    s.pages[pid] = nil
                    return .failure(SystemError("move_pages", errno: 3))
                }
                s.exitAfterMoves[pid] = left - 1
            }
            s.moveBatches.append(addresses.count)
            s.moveThreads.insert(UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))))
            s.clock += Double(addresses.count) * s.secondsPerMovedPage
            var statuses: [Int32] = []
            for (address, node) in zip(addresses, nodes) {
                if s.oneRunPerCall, let first = nodes.first, node != first {
                    statuses.append(PageMoveResult.unprocessed)
                    continue
                }
                if s.pages[pid]?[address] != nil { s.pages[pid]?[address] = node; statuses.append(node) } else { statuses.append(-2) }
            }
            s.migratedCounter += UInt64(addresses.count)
            let left = statuses.filter { $0 == PageMoveResult.unprocessed }.count
            return .success(PageMoveResult(statuses: statuses, notMigrated: left))
        }
    }

    func migratePages(pid: Int32, from: [NodeID], to: [NodeID]) -> Result<Int, SystemError> {
        log("migrate_pages \(pid) \(from.map(\.rawValue)) \(to.map(\.rawValue))", changes: true)
        return state.withLock { s in
            let sources = Set(from.map { Int32($0.rawValue) })
            guard let target = to.first.map({ Int32($0.rawValue) }), var pages = s.pages[pid] else { return .success(0) }
            for (address, node) in pages where sources.contains(node) { pages[address] = target; s.migratedCounter += 1 }
            s.pages[pid] = pages
            return .success(0)
        }
    }

    func openSharedObject(pid: Int32, mapping: Mapping, window: Range<UInt64>) -> Result<any SharedObjectView, SystemError> {
        log("open object \(pid)", changes: true)
        guard state.withLock({ $0.objectsOpen }) else {
            return .failure(SystemError("open of /proc/\(pid)/map_files", errno: 1))
        }
        let gone = state.withLock { s in
            if s.exitsOnObjectOpen { s.processes[pid] = nil }
            return s.objectEntryGone
        }
        if gone { return .failure(SystemError("open of /proc/\(pid)/map_files", errno: 2)) }
        return .success(FakeObjectView(kernel: self, base: Self.objectBase + window.lowerBound,
                                       length: UInt64(window.count), objectPageOffset: window.lowerBound / pageSize))
    }

    /// mbind over a window: MPOL_MF_MOVE_ALL moves its pages to the policy's
    /// first node (interleave is left to move_pages, as the setter does).
    func mbind(base: UInt64, length: UInt64, policy: MemoryPolicySpec, moveShared: Bool) {
        log("mbind \(policy)\(moveShared ? " MPOL_MF_MOVE_ALL" : "")", changes: true)
        guard moveShared, let node = policy.nodes.sorted().first else { return }
        state.withLock { s in
            for (address, _) in s.pages[0] ?? [:] where address >= base && address < base + length {
                s.pages[0]?[address] = Int32(node.rawValue)
                s.migratedCounter += 1
            }
        }
    }

    func migratedPagesCounter() -> UInt64? { state.withLock { $0.migratedCounter } }
    func now() -> Double { state.withLock { $0.clock } }
    func sleep(seconds: Double) {
        state.withLock { s in
            s.clock += seconds
            s.slept += seconds
        }
    }
}

struct FakeWatch: ProcessWatch {
    let kernel: RecordingKernel
    let pid: Int32
    var hasExited: Bool { kernel.state.withLock { $0.processes[pid] == nil } }
    func close() {}
}

/// A window of a shared object, its pages in the kernel's pid 0 table.
struct FakeObjectView: SharedObjectView {
    let kernel: RecordingKernel
    let base: UInt64
    let length: UInt64
    let objectPageOffset: UInt64

    func residentPages() -> Result<[Int], SystemError> {
        let page = kernel.pageSize
        let pages = kernel.state.withLock { $0.pages[0] ?? [:] }
        return .success((0..<Int(length / page)).filter { pages[base + UInt64($0) * page] != nil })
    }
    func populate(pages: [Int]) -> Int { 0 }
    func policy() -> Result<MemoryPolicySpec, SystemError> { .success(kernel.state.withLock { $0.objectPolicy }) }
    func applyPolicy(_ policy: MemoryPolicySpec, moveShared: Bool) -> Result<Void, SystemError> {
        kernel.state.withLock { $0.objectPolicy = policy }
        kernel.mbind(base: base, length: length, policy: policy, moveShared: moveShared)
        return .success(())
    }
    func close() {}
}
