import Foundation
import Glibc

/// Why a request to the daemon failed, in words an operator can act on.
public struct ControlError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Talks to a running daemon over its control socket.
public struct ControlClient: Sendable {
    public var socketPath: String
    /// How long to wait for the answer (a reload waits for the daemon's loop).
    public var timeoutSeconds: Int

    public init(runtimeDirectory: String, timeoutSeconds: Int = 10) {
        socketPath = runtimeDirectory + "/" + ControlRequest.socketName
        self.timeoutSeconds = timeoutSeconds
    }

    public init(socketPath: String, timeoutSeconds: Int = 10) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends `request`, returns the whole answer.
    public func send(_ request: ControlRequest) throws(ControlError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlError("socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard var address = UnixAddress(path: socketPath) else {
            throw ControlError("socket path too long (\(socketPath.utf8.count) bytes; at most 107)")
        }
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        if connected != 0 {
            let code = errno
            switch code {
            case ENOENT, ECONNREFUSED:
                throw ControlError("no numabalance daemon is running (nothing listens on \(socketPath)); "
                    + "start it with `systemctl start numabalance` or `numabalance run`")
            case EACCES, EPERM:
                throw ControlError("permission denied on \(socketPath): the control socket is root-only; "
                    + "run this as root")
            default:
                throw ControlError("cannot connect to \(socketPath): \(String(cString: strerror(code)))")
            }
        }
        let line = Array((request.rawValue + "\n").utf8)
        guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count else {
            throw ControlError("cannot send to \(socketPath): \(String(cString: strerror(errno)))")
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw ControlError("the daemon did not answer `\(request.rawValue)` within \(timeoutSeconds) s")
                }
                throw ControlError("reading from \(socketPath): \(String(cString: strerror(errno)))")
            }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// `reload`, decoded.
    public func reload() throws(ControlError) -> ReloadReply {
        let text = try send(.reload)
        do { return try JSONDecoder().decode(ReloadReply.self, from: Data(text.utf8)) } catch {
            throw ControlError("the daemon's answer to reload is not understood: \(text.prefix(200))")
        }
    }
}

/// A sockaddr_un for a filesystem path.
struct UnixAddress {
    var storage = sockaddr_un()

    init?(path: String) {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        guard bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    mutating func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
