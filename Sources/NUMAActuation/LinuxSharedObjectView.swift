import CLinux
import CNUMA
import Glibc
import NUMAModel
import NUMAProc

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
        -> Result<LinuxSharedObjectView, SyscallError>
    {
        if let forgery = KernelSharedMemory.forgery(mapping) {
            return .failure(SyscallError("refused pid \(pid)'s mapping: \(forgery)", errno: EPERM))
        }
        let length = window.upperBound - window.lowerBound
        let objectOffset = mapping.offset + window.lowerBound
        let name = String(mapping.start, radix: 16) + "-" + String(mapping.end, radix: 16)
        let path = "/proc/\(pid)/map_files/\(name)"
        let opened = Syscall.call("open of \(path)") { () -> Int32 in
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            return fd < 0 ? -errno : fd
        }
        return opened.flatMap { fd in
            defer { Glibc.close(fd) }
            return sameObject(fd: fd, mapping: mapping, path: path).flatMap {
                map(fd: fd, length: length, offset: objectOffset, path: path)
            }.map { address in
                LinuxSharedObjectView(base: address, length: length, objectPageOffset: objectOffset / pageSize,
                                      pageSize: pageSize)
            }
        }
    }

    /// The file behind the entry is the object sampled: the range may have
    /// been unmapped and mapped again with another file since maps was read.
    private static func sameObject(fd: Int32, mapping: Mapping, path: String) -> Result<Void, SyscallError> {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(SyscallError("fstat of \(path)", errno: errno)) }
        let device = DeviceNumber(statDevice: UInt64(info.st_dev))
        guard DeviceNumber(mapping.device) == device, UInt64(info.st_ino) == mapping.inode else {
            return .failure(SyscallError("refused \(path): it is device \(device) inode \(info.st_ino) now, "
                                         + "not the \(mapping.device) inode \(mapping.inode) sampled", errno: ESTALE))
        }
        return .success(())
    }

    func residentPages() -> Result<[Int], SyscallError> {
        let pages = Int((length + pageSize - 1) / pageSize)
        var vector = [UInt8](repeating: 0, count: pages)
        let base = self.base, length = self.length
        return Syscall.check("mincore of the shared object") {
            vector.withUnsafeMutableBufferPointer { out in
                clinux_mincore(UnsafeMutableRawPointer(bitPattern: UInt(base)), Int(length), out.baseAddress)
            }
        }.map { vector.indices.filter { vector[$0] & 1 != 0 } }
    }

    /// One populate per run of resident pages (a read of a hole would
    /// allocate). A run that fails (the object shrank under us: a sharer's
    /// ftruncate) is counted, never a SIGBUS (security review 4.6).
    func populate(pages: [Int]) -> Int {
        var missed = 0
        for run in contiguousRuns(pages) {
            let start = base + UInt64(run.lowerBound) * pageSize
            let rc = clinux_populate_read(UnsafeRawPointer(bitPattern: UInt(start)),
                                          Int(UInt64(run.count) * pageSize), Int(pageSize))
            if rc != 0 { missed += run.count }
        }
        return missed
    }

    func policy() -> Result<MemoryPolicySpec, SyscallError> {
        var mode: Int32 = 0
        var mask = NodeMaskWords()
        let base = self.base
        return Syscall.check("get_mempolicy of the shared object") {
            mask.words.withUnsafeMutableBufferPointer {
                clinux_get_mempolicy_at(&mode, $0.baseAddress, NodeMaskWords.maxnode,
                                        UnsafeMutableRawPointer(bitPattern: UInt(base)))
            }
        }.map { MemoryPolicyMode.spec(mode: mode, nodes: mask.nodes) }
    }

    func applyPolicy(_ policy: MemoryPolicySpec, moveShared: Bool) -> Result<Void, SyscallError> {
        let mask = NodeMaskWords(policy.nodes)
        let mode = MemoryPolicyMode.value(of: policy.mode)
        let flags = moveShared ? UInt32(MPOL_MF_MOVE_ALL) : 0
        let base = self.base, length = self.length
        let hasNodes = policy.mode != .default && policy.mode != .local
        return Syscall.check("mbind \(policy)\(moveShared ? " with MPOL_MF_MOVE_ALL" : "") of the shared object") {
            mask.words.withUnsafeBufferPointer {
                clinux_mbind(UnsafeMutableRawPointer(bitPattern: UInt(base)), UInt(length), mode,
                             hasNodes ? $0.baseAddress : nil, hasNodes ? NodeMaskWords.maxnode : 0, flags)
            }
        }
    }

    func close() {
        _ = clinux_unmap(UnsafeMutableRawPointer(bitPattern: UInt(base)), Int(length))
    }

    private static func map(fd: Int32, length: UInt64, offset: UInt64, path: String) -> Result<UInt64, SyscallError> {
        var address: UnsafeMutableRawPointer?
        return Syscall.check("mmap of \(path)") {
            clinux_map_shared_readonly(fd, Int(length), off_t(offset), &address)
        }.map { UInt64(UInt(bitPattern: address)) }
    }
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
