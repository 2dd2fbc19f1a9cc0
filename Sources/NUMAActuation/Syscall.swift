import Glibc

/// A failed system call: the operation (named as a person reads it, with the
/// C function it wraps) and the errno. `description` never shows a bare
/// number: "move_pages of pid 42: ESRCH (no such process)".
public struct SyscallError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(errnoText(errno))" }
}

/// The one place where the actuator's syscalls are made: the C shim returns
/// a value or -errno, and an EINTR is retried here (swift-system's
/// `valueOrErrno` with `retryOnInterrupt`).
enum Syscall {
    /// Calls `body` until it does not fail with EINTR; a negative result is
    /// -errno. Wraps any clinux_ function with that convention.
    static func call<Value: SignedInteger>(_ operation: @autoclosure () -> String,
                                           _ body: () -> Value) -> Result<Value, SyscallError> {
        while true {
            let value = body()
            if value >= 0 { return .success(value) }
            let code = Int32(truncatingIfNeeded: 0 - value)
            if code == EINTR { continue }
            return .failure(SyscallError(operation(), errno: code))
        }
    }

    /// The same, for calls whose success carries no value.
    static func check<Value: SignedInteger>(_ operation: @autoclosure () -> String,
                                            _ body: () -> Value) -> Result<Void, SyscallError> {
        call(operation(), body).map { _ in () }
    }
}

/// "ESRCH (no such process)": the symbolic name with strerror's words, for
/// the errno values the actuator meets; others as strerror and the number.
public func errnoText(_ code: Int32) -> String {
    let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        E2BIG: "E2BIG", EBADF: "EBADF", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
        EBUSY: "EBUSY", EEXIST: "EEXIST", ENODEV: "ENODEV", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
        ENOSYS: "ENOSYS", EIDRM: "EIDRM", EAGAIN: "EAGAIN", EXDEV: "EXDEV", EMFILE: "EMFILE",
        ENFILE: "ENFILE", EROFS: "EROFS", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR",
    ]
    let words = strerror(code).map { String(cString: $0).lowercased() } ?? "errno \(code)"
    guard let name = names[code] else { return "\(words) (errno \(code))" }
    return "\(name) (\(words))"
}
