import NUMAModel

// Which mappings the sampler considers, mirroring the kernel's task_numa_work
// (kernel/sched/fair.c): it skips VMAs that are not migratable (VM_IO,
// VM_PFNMAP), hugetlb, VM_MIXEDMAP, read-only file mappings (shared library
// text would ping-pong for nothing), and inaccessible (PROT_NONE) ones.

extension Mapping {
    /// Backed by a file or by shmem: anything with a vm_file in the kernel,
    /// including SysV segments (whose inode may be 0: shmid 0) and memfds.
    public var hasBackingFile: Bool {
        if path.hasPrefix("/") || path.hasPrefix("[anon_shmem:") { return true }
        return inode != 0 && !path.hasPrefix("[")
    }

    /// hugetlb memory that maps can show: MAP_HUGETLB ("/anon_hugepage (deleted)").
    /// Files on a hugetlbfs mount elsewhere than /dev/hugepages cannot be told
    /// from maps (smaps' KernelPageSize could); they are treated as files.
    public var isHugeTLB: Bool {
        // (hasPrefix, not contains: this runs for every mapping of every look.)
        !path.isEmpty && (path.hasPrefix("/anon_hugepage") || path.hasPrefix("/dev/hugepages/"))
    }

    /// A device's memory (VM_IO / VM_PFNMAP-like): a path under /dev/ other than
    /// /dev/shm/… (tmpfs) and /dev/zero (anonymous memory, private or shared).
    public var isDeviceMapping: Bool {
        guard path.hasPrefix("/dev/") else { return false }
        if path.hasPrefix("/dev/shm/") { return false }
        return path != "/dev/zero (deleted)" && path != "/dev/zero"
    }

    /// Whether the sampler should look at this mapping's pages: anonymous,
    /// heap, stack, shmem and SysV segments, memfds, /dev/shm files, shared
    /// anonymous memory ("/dev/zero (deleted)") and writable file mappings.
    /// Skipped as the kernel skips them: PROT_NONE, special areas, hugetlb,
    /// devices, and file-backed mappings that are readable but not writable.
    /// A private mapping of /dev/zero is anonymous memory to the kernel, so eligible.
    public var isEligibleForSampling: Bool { isEligible(hugetlb: false) }

    /// Eligibility with hugetlb mappings included when a policy asks for
    /// them (`sampling.hugetlb: true`): move_pages and migrate_pages move huge
    /// pages, though the kernel's own scanner skips them.
    public func isEligible(hugetlb: Bool) -> Bool {
        if !readable && !writable && !executable { return false }
        if isHugeTLB { return hugetlb && end > start }  // (under /dev/hugepages, but memory, not a device)
        if isSpecial || isDeviceMapping { return false }
        if hasBackingFile && readable && !writable { return false }
        return end > start
    }

    /// The kind of shared object a MAP_SHARED mapping maps, or nil for
    /// private mappings and for shared mappings of ordinary files (which
    /// maps cannot tell from tmpfs files outside /dev/shm).
    public var sharedObjectKind: SharedObject.Kind? {
        guard shared else { return nil }
        if path.hasPrefix("/SYSV") { return .sysvShm }
        if path.hasPrefix("/memfd:") { return .memfd }
        if path == "/dev/zero (deleted)" || path.hasPrefix("[anon_shmem:") { return .anonShared }
        if path.hasPrefix("/dev/shm/") { return .shmem }
        return nil
    }

    /// The shared object this mapping maps, with the mapping's size as its bytes.
    /// The same device and inode in two processes is the same object.
    public var sharedObject: SharedObject? {
        guard let kind = sharedObjectKind else { return nil }
        return SharedObject(kind: kind, device: device, inode: inode, path: path, bytes: bytes)
    }
}

/// Ground truth of where a process's eligible memory lives: Σ of numa_maps'
/// N<node>= counts over the entries that start an eligible mapping, in 4 KiB
/// base pages (a hugetlb entry counts huge pages; THP is already in base pages).
/// Costly on a big process (numa_maps walks every page table): used by
/// `inspect --exact` and by tests, never on the sampling path.
public func exactPagesByNode(maps: [Mapping], numaMaps: [NumaMapsEntry], hugetlb: Bool = false) -> [NodeID: UInt64] {
    let eligibleStarts = Set(maps.lazy.filter { $0.isEligible(hugetlb: hugetlb) }.map(\.start))
    var result: [NodeID: UInt64] = [:]
    for entry in numaMaps where eligibleStarts.contains(entry.start) {
        let scale = max(entry.kernelPageSizeKB, 4) / 4
        for (node, count) in entry.pagesByNode {
            // Saturate rather than trap: the counts come from another process's file.
            let product = count.multipliedReportingOverflow(by: scale)
            let sum = result[node, default: 0].addingReportingOverflow(product.partialValue)
            result[node] = product.overflow || sum.overflow ? UInt64.max : sum.partialValue
        }
    }
    return result
}
