import Glibc
import NUMAModel

/// The soft-dirty tier (opt-in): which sampled pages were written since the
/// process's soft-dirty bits were last cleared. Clearing walks every page
/// table of the process (O(RSS)), which is why it is not on by default.
/// Needs CONFIG_MEM_SOFT_DIRTY; pagemap's flag bits are readable without
/// CAP_SYS_ADMIN (only the frame numbers are hidden).
public struct SoftDirty: Sendable {
    public var procRoot: String
    public var pageSize: UInt64

    public init(procRoot: String = "/proc", pageSize: UInt64) {
        self.procRoot = procRoot
        self.pageSize = pageSize
    }

    /// Bit 55 of a pagemap entry: written since the last clear.
    static let softDirtyBit: UInt64 = 1 << 55

    /// Whether this kernel tracks soft-dirty bits: a page this process has just
    /// written in a new mapping must show the bit (CONFIG_MEM_SOFT_DIRTY).
    public static let isSupported: Bool = {
        let size = 4096
        guard let page = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              page != MAP_FAILED else { return false }
        defer { munmap(page, size) }
        page.storeBytes(of: 1, as: UInt8.self)
        let probe = SoftDirty(pageSize: UInt64(size))
        return probe.written(pid: getpid(), addresses: [UInt64(UInt(bitPattern: page))])?.first == true
    }()

    /// Clears the process's soft-dirty bits (writes "4" to clear_refs).
    /// Returns nil on success, or why the tier cannot be used.
    public func clear(pid: Int32) -> String? {
        guard Self.isSupported else {
            return "not available: this kernel does not track soft-dirty bits (CONFIG_MEM_SOFT_DIRTY)"
        }
        let fd = open("\(procRoot)/\(pid)/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return "cannot open clear_refs: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let written = "4".withCString { write(fd, $0, 1) }
        return written == 1 ? nil : "cannot clear soft-dirty bits: \(String(cString: strerror(errno)))"
    }

    /// For each address, whether its page was written since the last clear;
    /// nil when pagemap cannot be read. Contiguous addresses are read together.
    public func written(pid: Int32, addresses: [UInt64]) -> [Bool]? {
        let fd = open("\(procRoot)/\(pid)/pagemap", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result = [Bool](repeating: false, count: addresses.count)
        var index = 0
        while index < addresses.count {
            // A run of consecutive pages is one pread.
            var end = index + 1
            while end < addresses.count, end - index < 512, addresses[end] == addresses[end - 1] + pageSize { end += 1 }
            let count = end - index
            var entries = [UInt64](repeating: 0, count: count)
            let offset = off_t(addresses[index] / pageSize * 8)
            let got = entries.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count * 8, offset) }
            guard got == count * 8 else { return nil }
            for i in 0..<count { result[index + i] = entries[i] & Self.softDirtyBit != 0 }
            index = end
        }
        return result
    }

    /// Sampled resident pages written since the clear, per node.
    public static func writtenByNode(statuses: [Int32], written: [Bool]) -> [NodeID: Int] {
        var byNode: [NodeID: Int] = [:]
        for (status, wrote) in zip(statuses, written) where status >= 0 && wrote {
            byNode[NodeID(Int(status)), default: 0] += 1
        }
        return byNode
    }
}
