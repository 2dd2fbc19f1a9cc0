import Glibc

/// The one place where system calls are made and EINTR is retried
/// (swift-system's `valueOrErrno(retryOnInterrupt:)`, NIO's `syscall`).
/// Two conventions meet here: the CLinux shims return a value or -errno
/// (`call`, `check`); libc returns -1 and sets errno (`libc`, `libcCheck`).
public enum Syscall {
    /// Calls `body` until it does not fail with EINTR; a negative result is -errno.
    public static func call<Value: SignedInteger>(_ operation: @autoclosure () -> String,
                                                  _ body: () -> Value) -> Result<Value, SystemError> {
        while true {
            let value = body()
            if value >= 0 { return .success(value) }
            let code = Int32(truncatingIfNeeded: 0 - value)
            if code == EINTR { continue }
            return .failure(SystemError(operation(), errno: code))
        }
    }

    /// `call` for shims whose success carries no value.
    public static func check<Value: SignedInteger>(_ operation: @autoclosure () -> String,
                                                   _ body: () -> Value) -> Result<Void, SystemError> {
        call(operation(), body).map { _ in () }
    }

    /// Calls a libc function until it does not fail with EINTR; -1 means
    /// failure, with the reason in errno.
    public static func libc<Value: SignedInteger>(_ operation: @autoclosure () -> String,
                                                  _ body: () -> Value) -> Result<Value, SystemError> {
        while true {
            let value = body()
            if value != -1 { return .success(value) }
            let code = Glibc.errno
            if code == EINTR { continue }
            return .failure(SystemError(operation(), errno: code))
        }
    }

    /// `libc` for calls whose success carries no value.
    public static func libcCheck<Value: SignedInteger>(_ operation: @autoclosure () -> String,
                                                       _ body: () -> Value) -> Result<Void, SystemError> {
        libc(operation(), body).map { _ in () }
    }
}
