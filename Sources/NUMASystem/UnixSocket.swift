import Glibc

/// AF_UNIX stream sockets named by a path: the daemon's control socket and
/// its client. Addresses are sockaddr_un bytes (`address`), so a caller
/// never builds one itself.
public enum UnixSocket {
    /// The longest path a sockaddr_un holds (108 bytes with its NUL).
    public static let maxPathBytes = 107

    /// The sockaddr_un for `path`, cut to the length the kernel reads; nil
    /// when the path is too long. With `abstractMarker`, "@name" is a name
    /// in the abstract namespace (systemd's NOTIFY_SOCKET form): a leading
    /// NUL and no trailing one, as the length is part of such an address.
    public static func address(_ path: String, abstractMarker: Bool = false) -> [UInt8]? {
        var name = Array(path.utf8)
        let abstract = abstractMarker && name.first == UInt8(ascii: "@")
        if abstract { name[0] = 0 }
        var storage = sockaddr_un()
        guard name.count < MemoryLayout.size(ofValue: storage.sun_path) else { return nil }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: name)
            raw[name.count] = 0
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        // A path counts its NUL; an abstract name is exactly its bytes.
        let length = pathOffset + name.count + (abstract ? 0 : 1)
        return withUnsafeBytes(of: &storage) { Array($0.prefix(length)) }
    }

    /// socket(2): a new AF_UNIX stream socket, close-on-exec.
    public static func stream() -> Result<Int32, SystemError> {
        Syscall.libc("socket(AF_UNIX)") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }

    /// bind(2) of `fd` to `address`. Linux creates the socket file with the
    /// socket's own mode (less the umask): set it first with
    /// `FileIO.setPermissions(fd:)`, and the file is never more open, and no
    /// chmod of the path can follow a link someone put there.
    public static func bind(_ fd: Int32, to address: [UInt8], name: String) -> Result<Void, SystemError> {
        Syscall.libcCheck("bind \(name)") {
            address.withUnsafeBytes { raw in
                Glibc.bind(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
        }
    }

    /// connect(2), once: a connect interrupted by a signal goes on in the
    /// kernel, and calling it again would fail with EALREADY.
    public static func connect(_ fd: Int32, to address: [UInt8], name: String) -> Result<Void, SystemError> {
        let rc = address.withUnsafeBytes { raw in
            Glibc.connect(fd, raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        return rc == 0 ? .success(()) : .failure(.last("connect \(name)"))
    }

    /// SO_RCVTIMEO: a read that waits longer fails with EAGAIN.
    public static func setReceiveTimeout(_ fd: Int32, seconds: Int) -> Result<Void, SystemError> {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        return Syscall.libcCheck("setsockopt SO_RCVTIMEO") {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
    }
}

/// Calls shared by every stream socket, unix or TCP: listen, accept, and a
/// request and answer exchanged within one deadline (security review 2.2,
/// 2.5: a timeout per read(2) let a client sending a byte a second hold the
/// serving thread for minutes; here the clock runs from the first poll).
public enum StreamSocket {
    /// listen(2).
    public static func listen(_ fd: Int32, backlog: Int32) -> Result<Void, SystemError> {
        Syscall.libcCheck("listen") { Glibc.listen(fd, backlog) }
    }

    /// accept(2), the connection made close-on-exec (Glibc's Swift module
    /// lacks accept4).
    public static func accept(_ fd: Int32) -> Result<Int32, SystemError> {
        Syscall.libc("accept") { Glibc.accept(fd, nil, nil) }.map { client in
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            return client
        }
    }

    /// shutdown(2) of both directions: wakes a thread blocked in accept(2).
    public static func shutdown(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Bytes until `complete` accepts them, `limit` bytes, the peer's end of
    /// the stream, or `deadline` (`Clock.monotonicSeconds()`): what arrived,
    /// or nil on the deadline (or an error) with nothing complete. The
    /// socket is made non-blocking.
    public static func receive(_ fd: Int32, limit: Int, until deadline: Double,
                               complete: ([UInt8]) -> Bool) -> [UInt8]? {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var bytes: [UInt8] = []
        while bytes.count < limit {
            guard Poll.wait(fd, for: .readable, until: deadline) else { return nil }
            switch FileIO.readOnce(fd: fd, count: min(4096, limit - bytes.count), name: "a socket") {
            case .success(let chunk):
                if chunk.isEmpty { return bytes }
                bytes += chunk
                if complete(bytes) { return bytes }
            case .failure(let error):
                if error.errno == EAGAIN { continue }
                return nil
            }
        }
        return bytes
    }

    /// Writes all of `bytes` unless `deadline` passes first (a peer that
    /// stops reading). MSG_NOSIGNAL: a peer gone is no SIGPIPE.
    @discardableResult
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8], until deadline: Double) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard Poll.wait(fd, for: .writable, until: deadline) else { return false }
            let sent = Syscall.libc("send") {
                bytes.withUnsafeBytes { raw in
                    Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset,
                               Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                }
            }
            switch sent {
            case .success(let count): offset += count
            case .failure(let error): if error.errno != EAGAIN { return false }
            }
        }
        return true
    }
}
