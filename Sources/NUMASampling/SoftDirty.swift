import NUMAModel
import NUMASystem

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
        SoftDirtyPages.withWrittenPage { address, size in
            SoftDirty(pageSize: UInt64(size)).written(pid: Host.pid, addresses: [address])?.first == true
        } ?? false
    }()

    /// Clears the process's soft-dirty bits (writes "4" to clear_refs).
    /// Returns nil on success, or why the tier cannot be used.
    public func clear(pid: Int32) -> String? {
        guard Self.isSupported else {
            return "not available: this kernel does not track soft-dirty bits (CONFIG_MEM_SOFT_DIRTY)"
        }
        let fd: Int32
        switch FileIO.open("\(procRoot)/\(pid)/clear_refs", .writeOnly) {
        case .success(let opened): fd = opened
        case .failure(let error): return "cannot open clear_refs: \(Errno.message(error.errno))"
        }
        defer { FileIO.close(fd) }
        guard case .failure(let error) = FileIO.writeAll(fd: fd, Array("4".utf8), name: "clear_refs") else { return nil }
        return "cannot clear soft-dirty bits: \(Errno.message(error.errno))"
    }

    /// For each address, whether its page was written since the last clear;
    /// nil when pagemap cannot be read. Contiguous addresses are read together.
    public func written(pid: Int32, addresses: [UInt64]) -> [Bool]? {
        guard case .success(let fd) = FileIO.open("\(procRoot)/\(pid)/pagemap") else { return nil }
        defer { FileIO.close(fd) }
        var result = [Bool](repeating: false, count: addresses.count)
        var index = 0
        while index < addresses.count {
            // A run of consecutive pages is one pread.
            var end = index + 1
            while end < addresses.count, end - index < 512, addresses[end] == addresses[end - 1] + pageSize { end += 1 }
            let count = end - index
            let offset = Int64(addresses[index] / pageSize * 8)
            guard case .success(let bytes) = FileIO.read(fd: fd, count: count * 8, at: offset, name: "pagemap"),
                  bytes.count == count * 8 else { return nil }
            bytes.withUnsafeBytes { raw in
                for i in 0..<count {
                    let entry = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)  // native-endian u64
                    result[index + i] = entry & Self.softDirtyBit != 0
                }
            }
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
