import Foundation
import NUMASystem

/// Why a message to systemd could not be sent.
public struct SystemdNotifyError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The failed system call behind it, when there was one.
    public var cause: SystemError?
    public init(_ description: String, cause: SystemError? = nil) {
        self.description = description
        self.cause = cause
    }
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
        watchdogInterval = Self.watchdogInterval(environment: environment, pid: Host.pid)
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
        guard let bytes = UnixSocket.address(path, abstractMarker: true) else {
            unavailableReason = "NOTIFY_SOCKET=\(path) is longer than a socket address allows (107 bytes)"
            fd = -1
            address = []
            return
        }
        switch Datagram.unixSocket() {
        case .success(let socketFD):
            unavailableReason = nil
            address = bytes
            fd = socketFD
        case .failure(let error):
            unavailableReason = "cannot create a datagram socket for systemd notifications: "
                + Errno.message(error.errno)
            address = []
            fd = -1
        }
    }

    deinit { if fd >= 0 { FileIO.close(fd) } }

    /// True when messages go to systemd (else every call does nothing).
    public var isActive: Bool { fd >= 0 }

    /// Start-up (or a reload) is complete: READY=1, the status line, our pid.
    public func ready(status: String) throws(SystemdNotifyError) {
        try send("READY=1\nSTATUS=\(Self.oneLine(status))\nMAINPID=\(Host.pid)")
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
        switch Datagram.send(fd, bytes, to: address, name: socketPath ?? "?") {
        case .success(let sent) where sent == bytes.count: return
        case .success:
            throw SystemdNotifyError("cannot notify systemd on \(socketPath ?? "?"): short send")
        case .failure(let error):
            throw SystemdNotifyError("cannot notify systemd on \(socketPath ?? "?"): \(Errno.message(error.errno))",
                                     cause: error)
        }
    }

    /// CLOCK_MONOTONIC in microseconds: systemd's clock for RELOADING=1.
    public static func monotonicMicroseconds() -> UInt64 {
        UInt64(Clock.monotonicSeconds() * 1_000_000)
    }

    static func watchdogInterval(environment: [String: String], pid: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        // A watchdog set for the main process must not be pinged by a child
        // that inherited the environment.
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty, Int32(owner) != pid { return nil }
        return .microseconds(Int64(clamping: usec))
    }

    /// A status is one line: the protocol separates fields by newlines.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}
