import NUMAModel
import NUMAProc
import NUMASystem

/// numabalance's own read-only mapping of a window of another process's
/// shared object, mapped from /proc/PID/map_files/START-END: the very file
/// the process maps, whatever its kind (a SysV segment, shmem, memfd,
/// MAP_SHARED|MAP_ANONYMOUS; needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN).
/// SysV segments were once attached by shmid (the inode maps shows), which
/// let a file named "/SYSV…" point root at any tenant's segment (security
/// review 4.5): through map_files a forged name reaches only its own file,
/// and the file opened must be the one sampled (device and inode).
/// mbind on the window sets the object's policy, which every process mapping
/// it then follows; MPOL_MF_MOVE_ALL moves the pages present in our page tables.
struct LinuxSharedObjectView: SharedObjectView {
    let base: UInt64
    let length: UInt64
    let objectPageOffset: UInt64
    let pageSize: UInt64

    static func open(pid: Int32, mapping: Mapping, window: Range<UInt64>, pageSize: UInt64)
        -> Result<LinuxSharedObjectView, SystemError>
    {
        if let forgery = KernelSharedMemory.forgery(mapping) {
            return .failure(SystemError("refused pid \(pid)'s mapping: \(forgery)", errno: Errno.notPermitted))
        }
        let length = window.upperBound - window.lowerBound
        let objectOffset = mapping.offset + window.lowerBound
        let name = String(mapping.start, radix: 16) + "-" + String(mapping.end, radix: 16)
        let path = "/proc/\(pid)/map_files/\(name)"
        let opened = FileIO.open(path).mapError { SystemError("open of \(path)", errno: $0.errno) }
        return opened.flatMap { fd in
            defer { FileIO.close(fd) }
            return sameObject(fd: fd, mapping: mapping, path: path).flatMap {
                SharedMapping.mapReadOnly(fd: fd, length: length, offset: objectOffset, name: path)
            }.map { address in
                LinuxSharedObjectView(base: address, length: length, objectPageOffset: objectOffset / pageSize,
                                      pageSize: pageSize)
            }
        }
    }

    /// The file behind the entry is the object sampled: the range may have
    /// been unmapped and mapped again with another file since maps was read.
    private static func sameObject(fd: Int32, mapping: Mapping, path: String) -> Result<Void, SystemError> {
        FileStatus.of(fd: fd).mapError { SystemError("fstat of \(path)", errno: $0.errno) }.flatMap { info in
            let device = DeviceNumber(statDevice: info.device)
            guard DeviceNumber(mapping.device) == device, info.inode == mapping.inode else {
                return .failure(SystemError("refused \(path): it is device \(device) inode \(info.inode) now, "
                                            + "not the \(mapping.device) inode \(mapping.inode) sampled",
                                            errno: Errno.staleHandle))
            }
            return .success(())
        }
    }

    func residentPages() -> Result<[Int], SystemError> {
        SharedMapping.residentPages(address: base, length: length, pageSize: pageSize,
                                    operation: "mincore of the shared object")
    }

    /// One populate per run of resident pages (a read of a hole would
    /// allocate). A run that fails (the object shrank under us: a sharer's
    /// ftruncate) is counted, never a SIGBUS (security review 4.6).
    func populate(pages: [Int]) -> Int {
        var missed = 0
        for run in contiguousRuns(pages) {
            let start = base + UInt64(run.lowerBound) * pageSize
            let populated = SharedMapping.populateRead(address: start, length: UInt64(run.count) * pageSize,
                                                       pageSize: pageSize)
            if case .failure = populated { missed += run.count }
        }
        return missed
    }

    func policy() -> Result<MemoryPolicySpec, SystemError> {
        MemoryPolicy.policy(at: base, operation: "get_mempolicy of the shared object")
            .map { MemoryPolicyMode.spec(mode: $0.mode, nodes: $0.nodes) }
    }

    func applyPolicy(_ policy: MemoryPolicySpec, moveShared: Bool) -> Result<Void, SystemError> {
        MemoryPolicy.bind(address: base, length: length, mode: MemoryPolicyMode.value(of: policy.mode),
                          nodes: MemoryPolicyMode.hasNodes(policy.mode) ? policy.nodes : nil, moveAll: moveShared,
                          operation: "mbind \(policy)\(moveShared ? " with MPOL_MF_MOVE_ALL" : "") of the shared object")
    }

    func close() { SharedMapping.unmap(address: base, length: length) }
}

/// MPOL_* values of mbind/get_mempolicy (linux/mempolicy.h).
enum MemoryPolicyMode {
    /// MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING, or'ed into the mode.
    static let flagBits: Int32 = (1 << 15) | (1 << 14) | (1 << 13)

    static func value(of mode: MemoryPolicySpec.Mode) -> Int32 {
        switch mode {
        case .default: 0
        case .preferred: 1
        case .bind: 2
        case .interleave: 3
        case .local: 4
        case .preferredMany: 5
        }
    }

    /// Whether the mode takes a node mask (MPOL_DEFAULT and MPOL_LOCAL take none).
    static func hasNodes(_ mode: MemoryPolicySpec.Mode) -> Bool { mode != .default && mode != .local }

    static func spec(mode raw: Int32, nodes: [NodeID]) -> MemoryPolicySpec {
        let modes: [Int32: MemoryPolicySpec.Mode] = [
            0: .default, 1: .preferred, 2: .bind, 3: .interleave, 4: .local, 5: .preferredMany,
        ]
        let mode = modes[raw & ~flagBits] ?? .default
        return MemoryPolicySpec(mode: mode, nodes: mode == .default || mode == .local ? [] : nodes)
    }
}

/// Sorted page indexes grouped into runs of consecutive pages.
func contiguousRuns(_ pages: [Int]) -> [Range<Int>] {
    var runs: [Range<Int>] = []
    var start: Int?
    var previous = 0
    for page in pages.sorted() {
        if let s = start, page == previous + 1 {
            previous = page
            _ = s
            continue
        }
        if let s = start { runs.append(s..<(previous + 1)) }
        start = page
        previous = page
    }
    if let s = start { runs.append(s..<(previous + 1)) }
    return runs
}
