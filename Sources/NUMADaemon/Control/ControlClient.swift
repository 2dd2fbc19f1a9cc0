import Foundation
import NUMASystem

/// Why a request to the daemon failed, in words an operator can act on.
public struct ControlError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The failed system call behind it, when there was one.
    public var cause: SystemError?
    public init(_ description: String, cause: SystemError? = nil) {
        self.description = description
        self.cause = cause
    }
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
        let fd: Int32
        switch UnixSocket.stream() {
        case .success(let opened): fd = opened
        case .failure(let error): throw ControlError("socket(AF_UNIX): \(Errno.message(error.errno))", cause: error)
        }
        defer { FileIO.close(fd) }
        _ = UnixSocket.setReceiveTimeout(fd, seconds: timeoutSeconds)
        guard let address = UnixSocket.address(socketPath) else {
            throw ControlError("socket path too long (\(socketPath.utf8.count) bytes; at most \(UnixSocket.maxPathBytes))")
        }
        if case .failure(let error) = UnixSocket.connect(fd, to: address, name: socketPath) {
            switch error.errno {
            case Errno.notFound, Errno.connectionRefused:
                throw ControlError("no numabalance daemon is running (nothing listens on \(socketPath)); "
                    + "start it with `systemctl start numabalance` or `numabalance run`", cause: error)
            case Errno.accessDenied, Errno.notPermitted:
                throw ControlError("permission denied on \(socketPath): the control socket is root-only; "
                    + "run this as root", cause: error)
            default:
                throw ControlError("cannot connect to \(socketPath): \(Errno.message(error.errno))", cause: error)
            }
        }
        let line = Array((request.rawValue + "\n").utf8)
        if case .failure(let error) = FileIO.writeAll(fd: fd, line, name: socketPath) {
            throw ControlError("cannot send to \(socketPath): \(Errno.message(error.errno))", cause: error)
        }
        var answer: [UInt8] = []
        while true {
            switch FileIO.readOnce(fd: fd, count: 65_536, name: socketPath) {
            case .success(let chunk):
                if chunk.isEmpty { return String(decoding: answer, as: UTF8.self) }
                answer += chunk
            case .failure(let error) where error.errno == Errno.wouldBlock:
                // SO_RCVTIMEO ran out.
                throw ControlError("the daemon did not answer `\(request.rawValue)` within \(timeoutSeconds) s",
                                   cause: error)
            case .failure(let error):
                throw ControlError("reading from \(socketPath): \(Errno.message(error.errno))", cause: error)
            }
        }
    }

    /// `reload`, decoded.
    public func reload() throws(ControlError) -> ReloadReply {
        let text = try send(.reload)
        do { return try JSONDecoder().decode(ReloadReply.self, from: Data(text.utf8)) } catch {
            throw ControlError("the daemon's answer to reload is not understood: \(text.prefix(200))")
        }
    }
}
