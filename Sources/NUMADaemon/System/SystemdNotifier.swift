import Foundation
import Glibc

/// Why a message to systemd could not be sent.
public struct SystemdNotifyError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// sd_notify(3) without libsystemd: datagrams of `KEY=value` lines to the
/// AF_UNIX socket systemd names in $NOTIFY_SOCKET (a path, or `@name` for the
/// abstract namespace). When $NOTIFY_SOCKET is unset (not started by systemd,
/// or a unit of another type) every call is a no-op.
///
/// Sendable without a lock: each message is one `sendto(2)` of a whole
/// datagram on a socket that is never connected, and the kernel delivers
/// datagrams whole, so calls from several threads cannot interleave.
public final class SystemdNotifier: Sendable {
    /// $NOTIFY_SOCKET as given; nil when not under systemd.
    public let socketPath: String?
    /// $WATCHDOG_USEC when it is meant for this process ($WATCHDOG_PID unset
    /// or equal to our pid): systemd restarts the daemon when no WATCHDOG=1
    /// arrives within it. Ping at least every half of it.
    public let watchdogInterval: Duration?
    /// Why notifications are off although $NOTIFY_SOCKET is set (a form this
    /// implementation does not speak, such as `vsock:`), for the log.
    public let unavailableReason: String?

    private let fd: Int32
    /// The sockaddr_un bytes and their length (abstract names are not
    /// NUL-terminated, so the length is part of the address).
    private let address: [UInt8]

    /// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `environment`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        watchdogInterval = Self.watchdogInterval(environment: environment, pid: getpid())
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else {
            socketPath = nil
            unavailableReason = nil
            fd = -1
            address = []
            return
        }
        socketPath = path
        guard path.hasPrefix("/") || path.hasPrefix("@") else {
            unavailableReason = "NOTIFY_SOCKET=\(path) is neither a path nor an abstract name (@…); "
                + "systemd notifications are off"
            fd = -1
            address = []
            return
        }
        guard let bytes = Self.socketAddress(path: path) else {
            unavailableReason = "NOTIFY_SOCKET=\(path) is longer than a socket address allows (107 bytes)"
            fd = -1
            address = []
            return
        }
        let socketFD = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if socketFD < 0 {
            unavailableReason = "cannot create a datagram socket for systemd notifications: "
                + String(cString: strerror(errno))
            address = []
        } else {
            unavailableReason = nil
            address = bytes
        }
        fd = socketFD
    }

    deinit { if fd >= 0 { close(fd) } }

    /// True when messages go to systemd (else every call does nothing).
    public var isActive: Bool { fd >= 0 }

    /// Start-up (or a reload) is complete: READY=1, the status line, our pid.
    public func ready(status: String) throws(SystemdNotifyError) {
        try send("READY=1\nSTATUS=\(Self.oneLine(status))\nMAINPID=\(getpid())")
    }

    /// The one-line status `systemctl status` shows.
    public func status(_ text: String) throws(SystemdNotifyError) {
        try send("STATUS=\(Self.oneLine(text))")
    }

    /// A reload has begun; send `ready(status:)` when it is over. The
    /// monotonic timestamp is required by systemd ≥ 253 for
    /// Type=notify-reload (older versions ignore it).
    public func reloading() throws(SystemdNotifyError) {
        try send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// The loop is alive (WatchdogSec=).
    public func watchdog() throws(SystemdNotifyError) {
        try send("WATCHDOG=1")
    }

    /// Shutdown has begun.
    public func stopping() throws(SystemdNotifyError) {
        try send("STOPPING=1")
    }

    /// Sends `message` (newline-separated `KEY=value` lines) as one datagram.
    public func send(_ message: String) throws(SystemdNotifyError) {
        guard fd >= 0 else { return }
        let bytes = Array(message.utf8)
        var sent: Int
        repeat {
            sent = address.withUnsafeBytes { raw in
                bytes.withUnsafeBytes { payload in
                    sendto(fd, payload.baseAddress, payload.count, Int32(MSG_NOSIGNAL),
                           raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
                }
            }
        } while sent < 0 && errno == EINTR
        guard sent == bytes.count else {
            let reason = sent < 0 ? String(cString: strerror(errno)) : "short send"
            throw SystemdNotifyError("cannot notify systemd on \(socketPath ?? "?"): \(reason)")
        }
    }

    /// CLOCK_MONOTONIC in microseconds: systemd's clock for RELOADING=1.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    static func watchdogInterval(environment: [String: String], pid: pid_t) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        // A watchdog set for the main process must not be pinged by a child
        // that inherited the environment.
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty, pid_t(owner) != pid { return nil }
        return .microseconds(Int64(clamping: usec))
    }

    /// A status is one line: the protocol separates fields by newlines.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }

    /// sockaddr_un for a path or an abstract name (`@` becomes the leading
    /// NUL), cut to the length the kernel must read.
    private static func socketAddress(path: String) -> [UInt8]? {
        var name = Array(path.utf8)
        let abstract = name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        var storage = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard name.count < capacity else { return nil }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: name)
            raw[name.count] = 0
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // A path counts its NUL; an abstract name is exactly its bytes.
        let length = pathOffset + name.count + (abstract ? 0 : 1)
        return withUnsafeBytes(of: &storage) { Array($0.prefix(length)) }
    }
}
