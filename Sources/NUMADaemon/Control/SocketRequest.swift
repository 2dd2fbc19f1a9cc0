import Glibc
import NUMASampling

/// A request read from, and an answer written to, a connected socket within
/// one deadline for the whole exchange (security review 2.2, 2.5). A
/// timeout per read(2) let a client sending a byte a second hold the
/// serving thread for minutes; here the clock runs from the first poll.
enum SocketRequest {
    /// Bytes until `complete` accepts them, `limit` bytes, the client's end
    /// of the stream, or `seconds`: what arrived, or nil on the deadline (or
    /// an error) with nothing complete.
    static func read(_ fd: Int32, seconds: Double, limit: Int, complete: ([UInt8]) -> Bool) -> [UInt8]? {
        let deadline = monotonicSeconds() + seconds
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            guard wait(fd, events: POLLIN, until: deadline) else { return nil }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return nil
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
            if complete(bytes) { break }
        }
        return bytes
    }

    /// Writes all of `bytes` unless `seconds` pass first (a client that
    /// stops reading). MSG_NOSIGNAL: a client gone is no SIGPIPE.
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8], seconds: Double) -> Bool {
        let deadline = monotonicSeconds() + seconds
        var offset = 0
        while offset < bytes.count {
            guard wait(fd, events: POLLOUT, until: deadline) else { return false }
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Whether `fd` became ready before the deadline.
    private static func wait(_ fd: Int32, events: Int32, until deadline: Double) -> Bool {
        while true {
            let left = deadline - monotonicSeconds()
            guard left > 0 else { return false }
            var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
            let ready = poll(&entry, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if ready < 0 { if errno == EINTR { continue }; return false }
            if ready > 0 { return true }
        }
    }
}

/// What a server does after accept(2) fails: the listening socket is fine
/// and a client came and went (retry), or the process or system is short of
/// descriptors or memory (wait a little, then retry). Never a reason to stop
/// serving (security review 2.6).
enum AcceptFailure: Equatable {
    case retry
    case backOff

    init(errno code: Int32) {
        switch code {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: self = .backOff
        default: self = .retry
        }
    }
}
