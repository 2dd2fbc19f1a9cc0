import Glibc

/// A listening TCP socket on a numeric address: the metrics endpoint's.
/// Accept and serve it with `StreamSocket`.
public enum TCPListener {
    /// Why there is no listening socket.
    public enum Failure: Error, Sendable {
        /// getaddrinfo(3) did not turn the host and port into an address.
        case unresolved
        /// socket(2) failed.
        case socket(SystemError)
        /// bind(2) or listen(2) failed (the address is taken, or not ours).
        case listen(SystemError)
    }

    /// getaddrinfo(3) of `host` (numeric: no name lookup is wanted at start)
    /// and `port`, then socket(2) close-on-exec with SO_REUSEADDR (a restart
    /// finds the port in TIME_WAIT), bind(2) and listen(2).
    public static func listen(host: String, port: Int, backlog: Int32 = 16) -> Result<Int32, Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            return .failure(.unresolved)
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.socket(.last("socket"))) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let error = SystemError.last("bind")
            FileIO.close(fd)
            return .failure(.listen(error))
        }
        if case .failure(let error) = StreamSocket.listen(fd, backlog: backlog) {
            FileIO.close(fd)
            return .failure(.listen(error))
        }
        return .success(fd)
    }
}
