import Glibc

/// The kernel's process connector: a netlink socket on which the kernel
/// multicasts every fork, exec and exit (what forkstat(8) reads), so a new
/// process is seen when it starts, not at the next /proc listing.
/// Subscribing needs CAP_NET_ADMIN (cn_proc checks it in the initial user
/// namespace); the daemon opens it before it drops that capability, and the
/// open socket keeps delivering. Events come only to a listener in the
/// initial pid and user namespaces. The kernel (6.1, cn_proc_mcast_ctl)
/// counts listeners by their LISTEN and IGNORE messages, and IGNORE needs
/// the capability too: after the daemon exits, the kernel goes on building
/// an event per fork, exec and exit for no one (one small allocation each).
public final class ProcConnector: @unchecked Sendable {
    // (One reader thread owns `receive`; `close` comes after it stopped.)
    public let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { _ = Glibc.close(fd) }

    /// socket(AF_NETLINK, NETLINK_CONNECTOR), bound to the CN_IDX_PROC
    /// group, and PROC_CN_MCAST_LISTEN sent: events flow from then on.
    public static func open() -> Result<ProcConnector, SystemError> {
        let opened = Syscall.libc("socket(AF_NETLINK, NETLINK_CONNECTOR)") {
            socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkConnector)
        }
        let fd: Int32
        switch opened {
        case .success(let value): fd = value
        case .failure(let error): return .failure(error)
        }
        // Closes the socket if a step below fails.
        let connector = ProcConnector(fd: fd)
        // sockaddr_nl: family, pad, pid (0: the kernel assigns one), groups.
        let address = bytes(UInt16(AF_NETLINK)) + bytes(UInt16(0)) + bytes(UInt32(0)) + bytes(procGroup)
        let bound = Syscall.libcCheck("bind(NETLINK_CONNECTOR, CN_IDX_PROC)") {
            address.withUnsafeBytes { raw in
                bind(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
        }
        if case .failure(let error) = bound { return .failure(error) }
        let listen = subscription(listen: true)
        let sent = Syscall.libc("send(PROC_CN_MCAST_LISTEN)") {
            listen.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }
        if case .failure(let error) = sent { return .failure(error) }
        return .success(connector)
    }

    /// The datagrams waiting (up to `limit`; each holds a few events), after
    /// waiting up to `timeout` seconds for the first: a burst of forks costs
    /// one wake-up, not one per event. ENOBUFS (`Errno.noBufferSpace`)
    /// means the socket overflowed and events were lost: the caller lists
    /// /proc to catch up.
    public func receive(timeout: Double, limit: Int = 64) -> Result<[[UInt8]], SystemError> {
        guard Poll.wait(fd, for: .readable, until: Clock.monotonicSeconds() + timeout) else { return .success([]) }
        var datagrams: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while datagrams.count < limit {
            let received = Syscall.libc("recv(NETLINK_CONNECTOR)") {
                buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            }
            switch received {
            case .success(let count): datagrams.append(Array(buffer.prefix(count)))
            case .failure(let error) where error.errno == EAGAIN: return .success(datagrams)
            // ENOBUFS is reported once: never hidden behind the datagrams read.
            case .failure(let error): return .failure(error)
            }
        }
        return .success(datagrams)
    }

    /// NETLINK_CONNECTOR and CN_IDX_PROC (linux/netlink.h, linux/connector.h).
    static let netlinkConnector: Int32 = 11
    static let procGroup: UInt32 = 1

    /// nlmsghdr (NLMSG_DONE) + cn_msg (CN_IDX_PROC, CN_VAL_PROC) + the
    /// proc_cn_mcast_op: 1 listens, 2 stops.
    static func subscription(listen: Bool) -> [UInt8] {
        let payload = bytes(UInt32(listen ? 1 : 2))
        let connector = bytes(UInt32(1)) + bytes(UInt32(1)) + bytes(UInt32(0)) + bytes(UInt32(0))
            + bytes(UInt16(payload.count)) + bytes(UInt16(0))
        let length = 16 + connector.count + payload.count
        let header = bytes(UInt32(length)) + bytes(UInt16(3)) + bytes(UInt16(0)) + bytes(UInt32(0))
            + bytes(UInt32(0))
        return header + connector + payload
    }

    private static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}
