import Glibc

/// AF_UNIX datagrams: sd_notify(3)'s messages to $NOTIFY_SOCKET, without
/// libsystemd. The kernel delivers a datagram whole, so senders on several
/// threads never interleave.
public enum Datagram {
    /// socket(2): a new AF_UNIX datagram socket, close-on-exec, never connected.
    public static func unixSocket() -> Result<Int32, SystemError> {
        Syscall.libc("socket(AF_UNIX, SOCK_DGRAM)") {
            socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
    }

    /// sendto(2) of `bytes` as one datagram to `address` (`UnixSocket.address`);
    /// MSG_NOSIGNAL. Returns the bytes sent.
    public static func send(_ fd: Int32, _ bytes: [UInt8], to address: [UInt8], name: String) -> Result<Int, SystemError> {
        Syscall.libc("sendto \(name)") {
            address.withUnsafeBytes { raw in
                bytes.withUnsafeBytes { payload in
                    sendto(fd, payload.baseAddress, payload.count, Int32(MSG_NOSIGNAL),
                           raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
                }
            }
        }
    }
}
