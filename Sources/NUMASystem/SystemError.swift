import Glibc

/// A failed system call: the operation (named as a person reads it, with the
/// C function it wraps) and the errno. Every target reports a kernel error
/// with this one type, so a caller can branch on the errno (EACCES against
/// EROFS) and `description` never shows a bare number:
/// "move_pages of pid 42: ESRCH (no such process)".
public struct SystemError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// The errno the last libc call left, with the operation that failed.
    /// Read it before any other call (a `close` in a `defer` may change it).
    public static func last(_ operation: String) -> SystemError {
        SystemError(operation, errno: Glibc.errno)
    }

    public var description: String { "\(operation): \(Errno.text(errno))" }

    /// The errno's symbolic name: "ENOENT".
    public var name: String { Errno.name(errno) }
}

/// errno values, named: the one place their text is made.
public enum Errno {
    public static let notFound = ENOENT, noSuchProcess = ESRCH, interrupted = EINTR, notPermitted = EPERM,
        accessDenied = EACCES, invalid = EINVAL, exists = EEXIST, readOnly = EROFS, busy = EBUSY,
        tooBig = EFBIG, symbolicLoop = ELOOP, wouldBlock = EAGAIN, timedOut = ETIMEDOUT,
        noMemory = ENOMEM, notSupported = EOPNOTSUPP, noSys = ENOSYS, noSpace = ENOSPC,
        identifierRemoved = EIDRM, badAddress = EFAULT, noDevice = ENODEV, notDirectory = ENOTDIR,
        connectionRefused = ECONNREFUSED, addressInUse = EADDRINUSE,
        ioError = EIO, crossDevice = EXDEV
    public static let tooManyFiles = EMFILE, tooManyFilesInSystem = ENFILE, noBufferSpace = ENOBUFS
    public static let staleHandle = ESTALE

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        E2BIG: "E2BIG", EBADF: "EBADF", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
        EBUSY: "EBUSY", EEXIST: "EEXIST", ENODEV: "ENODEV", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
        ENOSYS: "ENOSYS", EIDRM: "EIDRM", EAGAIN: "EAGAIN", EXDEV: "EXDEV", EMFILE: "EMFILE",
        ENFILE: "ENFILE", EROFS: "EROFS", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EFBIG: "EFBIG",
        ELOOP: "ELOOP", ETIMEDOUT: "ETIMEDOUT", EOPNOTSUPP: "EOPNOTSUPP", ECONNREFUSED: "ECONNREFUSED",
        EADDRINUSE: "EADDRINUSE", EPIPE: "EPIPE", ENOTCONN: "ENOTCONN", ECHILD: "ECHILD",
    ]

    /// "ENOENT", or "errno 200" for one without a name here.
    public static func name(_ code: Int32) -> String { names[code] ?? "errno \(code)" }

    /// strerror's words, lower-cased: "no such file or directory".
    public static func words(_ code: Int32) -> String { message(code).lowercased() }

    /// strerror's words as it writes them, "No such file or directory": for
    /// messages that operators (and tests) already know in this form.
    public static func message(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "errno \(code)"
    }

    /// "ESRCH (no such process)": the symbolic name with strerror's words;
    /// for an errno without a name here, the words and the number.
    public static func text(_ code: Int32) -> String {
        guard let name = names[code] else { return "\(words(code)) (errno \(code))" }
        return "\(name) (\(words(code)))"
    }
}
