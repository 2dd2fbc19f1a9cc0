// Memory placed on a chosen node by first touch under a temporary
// MPOL_BIND task policy, then left with the default policy.
import CLinux
import CNUMA
import Glibc

/// Why a workload cannot run: the operation that failed and the errno.
struct WorkloadError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
    init(_ operation: String, errno code: Int32) {
        description = "\(operation): \(errnoText(code))"
    }
}

/// Mapped memory (private, or a shared segment). `@unchecked Sendable`: the sweep threads
/// write into it concurrently by design (the values are meaningless, only the
/// memory traffic matters), and it is unmapped only after they are joined.
struct MemoryRegion: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Reserves `size` bytes; nothing is allocated until first touch. Wraps mmap(2).
    static func map(bytes size: Int) throws -> MemoryRegion {
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else {
            throw WorkloadError("mmap of \(size >> 20) MiB", errno: errno)
        }
        return MemoryRegion(base: base, size: size)
    }

    /// Reserves `size` bytes with extra mmap flags (MAP_NORESERVE, MAP_HUGETLB)
    /// and, with `guardPages`, one PROT_NONE page on each side, so that the
    /// mapping stays a VMA of its own (one numa_maps line starting at `base`)
    /// whatever is mapped next to it later (a thread's stack merges with an
    /// anonymous neighbour otherwise). Wraps mmap(2) and mprotect(2).
    static func map(bytes size: Int, flags: Int32, guardPages: Bool = false) throws -> MemoryRegion {
        let guardBytes = guardPages ? pageSize : 0
        let total = size + 2 * guardBytes
        guard let start = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0),
              start != MAP_FAILED else {
            throw WorkloadError("mmap of \(size >> 20) MiB (flags 0x\(String(flags, radix: 16)))", errno: errno)
        }
        if guardPages, mprotect(start, guardBytes, PROT_NONE) != 0 || mprotect(start + guardBytes + size, guardBytes, PROT_NONE) != 0 {
            let code = errno
            munmap(start, total)
            throw WorkloadError("mprotect of a guard page", errno: code)
        }
        return MemoryRegion(base: start + guardBytes, size: size)
    }

    /// Pages of the region per node, as the kernel reports them now (pages not
    /// present are left out). Wraps move_pages(2) with no target nodes (a query).
    func pagesByNode() -> [Int: Int] {
        let count = size / Self.pageSize
        var pages: [UnsafeMutableRawPointer?] = (0..<count).map { base + $0 * Self.pageSize }
        var status = [Int32](repeating: -1, count: count)
        let rc = numa_move_pages(0, UInt(count), &pages, nil, &status, 0)
        guard rc == 0 else { return [:] }
        return status.filter { $0 >= 0 }.reduce(into: [:]) { $0[Int($1), default: 0] += 1 }
    }

    /// The start address as numa_maps and maps print it (lowercase hex, no 0x).
    var startHex: String { String(UInt(bitPattern: base), radix: 16) }

    /// Keeps transparent huge pages out, so a 64 KiB block bound to one node
    /// is not swallowed by a 2 MiB page faulted in on another. Wraps madvise(2).
    func disableHugePages() {
        _ = madvise(base, size, MADV_NOHUGEPAGE)
    }

    /// Writes one byte per page of `range`, so every page gets allocated now.
    func touch(_ range: Range<Int>) {
        var offset = range.lowerBound
        while offset < range.upperBound {
            base.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self)
            offset += Self.pageSize
        }
    }

    func unmap() { munmap(base, size) }
}

enum MemoryPolicy {
    /// Runs `body` (which first-touches memory) with this thread's allocations
    /// bound to `node`, then restores the default policy. The default matters:
    /// pages only inherit where they were put, not a policy, so the kernel's
    /// balancer, migratepages and numabalance stay free to move them later (a
    /// bind policy would make the bound node the only "right" place for the
    /// kernel's balancer). Wraps set_mempolicy(2).
    static func bound<R>(to node: Int, _ body: () throws -> R) throws -> R {
        var mask = [UInt](repeating: 0, count: 16)
        guard node >= 0, node < mask.count * UInt.bitWidth else { throw WorkloadError("no node \(node)") }
        mask[node / UInt.bitWidth] |= 1 << UInt(node % UInt.bitWidth)
        // maxnode counts one past the bits given, as libnuma passes it.
        let rc = mask.withUnsafeBufferPointer { set_mempolicy(MPOL_BIND, $0.baseAddress, UInt(mask.count * UInt.bitWidth + 1)) }
        guard rc == 0 else { throw WorkloadError("set_mempolicy(MPOL_BIND, node \(node))", errno: errno) }
        defer { _ = set_mempolicy(MPOL_DEFAULT, nil, 0) }
        return try body()
    }
}

extension MemoryPolicy {
    /// Moves every page this process has so far (the runtime's heap, stacks,
    /// libraries' data) to `node`, so a scenario that says "all memory on A"
    /// means it, not only its buffer. Pages shared with other processes stay.
    /// Wraps migrate_pages(2) on the calling process.
    static func gatherOwnPages(on node: Int) throws {
        let words = 16
        let allNodes = [UInt](repeating: UInt.max, count: words)
        var target = [UInt](repeating: 0, count: words)
        target[node / UInt.bitWidth] |= 1 << UInt(node % UInt.bitWidth)
        let rc = allNodes.withUnsafeBufferPointer { from in
            target.withUnsafeBufferPointer { to in
                clinux_migrate_pages(getpid(), UInt(words * UInt.bitWidth + 1), from.baseAddress, to.baseAddress)
            }
        }
        guard rc >= 0 else { throw WorkloadError("migrate_pages to node \(node)", errno: Int32(-rc)) }
    }
}

/// strerror(3) as a String.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(decoding: UnsafeRawBufferPointer(start: text, count: strlen(text)), as: UTF8.self)
}
