import NUMASystem

/// Asks the kernel which node each page of another process lives on.
/// The one Linux implementation uses move_pages(2) with no target nodes;
/// tests use a fake that answers from a known placement.
public protocol PageProber: Sendable {
    /// One status per address: the node (≥ 0) or a negative errno.
    func query(pid: Int32, addresses: [UInt64]) -> Result<[Int32], ProbeError>
}

/// move_pages itself failed (not one page's status, the whole call).
public enum ProbeError: Error, Equatable, Sendable {
    /// ESRCH: the process is gone.
    case noSuchProcess
    /// EPERM/EACCES: the ptrace read check failed.
    case notPermitted
    case failed(errno: Int32)
}

/// Page status codes of move_pages(2) when asked where pages are.
public enum PageStatus {
    /// A page that was never touched answers -EFAULT on 6.1 and -ENOENT on
    /// 6.18; the shared zero page answers -EFAULT everywhere. Both mean "not
    /// resident" (an address whose mapping vanished also answers -EFAULT:
    /// the sampler re-reads maps to tell the two apart).
    public static func isNotResident(_ status: Int32) -> Bool {
        status == -Errno.badAddress || status == -Errno.notFound
    }
}

/// move_pages(pid, K, addrs, NULL, status, 0): a read-only query.
public struct LinuxPageProber: PageProber {
    public init() {}

    /// Queries in chunks so one call never holds the target's mmap lock for long.
    public static let chunk = 4096

    public func query(pid: Int32, addresses: [UInt64]) -> Result<[Int32], ProbeError> {
        var statuses: [Int32] = []
        statuses.reserveCapacity(addresses.count)
        var offset = 0
        while offset < addresses.count {
            let end = min(offset + Self.chunk, addresses.count)
            switch MemoryPolicy.queryPages(pid: pid, addresses: addresses[offset..<end]) {
            case .success(let chunk): statuses += chunk
            case .failure(let error) where error.errno == Errno.noSuchProcess: return .failure(.noSuchProcess)
            case .failure(let error) where error.errno == Errno.notPermitted || error.errno == Errno.accessDenied:
                return .failure(.notPermitted)
            case .failure(let error): return .failure(.failed(errno: error.errno))
            }
            offset = end
        }
        return .success(statuses)
    }
}
