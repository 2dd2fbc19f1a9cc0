import Foundation
import Glibc
import NUMAProc
import Synchronization

/// Why the instance lock could not be taken.
public struct InstanceLockError: Error, CustomStringConvertible, Sendable {
    /// The pid written in the lock file by the holder, when one holds it.
    public var holder: pid_t?
    public var description: String
    public init(_ description: String, holder: pid_t? = nil) {
        self.description = description
        self.holder = holder
    }
}

/// One daemon per host: an exclusive flock(2) on
/// `<stateDirectory>/numabalance.lock`, which also holds the holder's pid
/// for the message a second instance prints. The kernel drops the lock
/// when the holder exits however it exits, so a crash leaves no stale lock
/// (the file stays, and its pid is only a hint).
public final class InstanceLock: Sendable {
    public static let fileName = "numabalance.lock"

    public let path: String
    private let fd: Mutex<Int32>

    /// Takes the lock, creating the folder (0700) and the file (0600) when
    /// missing, or throws naming the pid that holds it. The folder must be
    /// one of our own (OwnFolder).
    public init(stateDirectory: String) throws(InstanceLockError) {
        path = stateDirectory + "/" + Self.fileName
        if let problem = OwnFolder.prepare(stateDirectory) {
            throw InstanceLockError("cannot use \(stateDirectory) for the lock: \(problem)")
        }
        // Never through a symlink: the pid written below would truncate the
        // link's target (a --state-dir in a folder others can write).
        let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard opened >= 0 else {
            if errno == ELOOP { throw InstanceLockError("the lock file \(path) is a symbolic link: refused") }
            throw InstanceLockError("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        var rc: Int32
        repeat { rc = flock(opened, LOCK_EX | LOCK_NB) } while rc != 0 && errno == EINTR
        if rc != 0 {
            let code = errno
            let holder = Self.pid(in: opened)
            close(opened)
            if code == EWOULDBLOCK {
                let who = holder.map { "pid \($0)" } ?? "pid unknown"
                throw InstanceLockError("another numabalance is running (\(who), holds \(path)); "
                    + "stop it first (systemctl stop numabalance) or use its control socket", holder: holder)
            }
            throw InstanceLockError("cannot lock \(path): \(String(cString: strerror(code)))")
        }
        // Ours now: the pid replaces whatever a previous holder wrote.
        let text = Array("\(getpid())\n".utf8)
        let written = ftruncate(opened, 0) == 0
            && text.withUnsafeBytes { pwrite(opened, $0.baseAddress, $0.count, 0) } == text.count
        guard written else {
            let code = errno
            close(opened)
            throw InstanceLockError("cannot write our pid into \(path): \(String(cString: strerror(code)))")
        }
        fd = Mutex(opened)
    }

    deinit { release() }

    /// Drops the lock (closing the file does); safe to call more than once.
    public func release() {
        fd.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    /// True until `release()`.
    public var isHeld: Bool { fd.withLock { $0 >= 0 } }

    /// The pid the holder wrote, read through our own descriptor.
    private static func pid(in fd: Int32) -> pid_t? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return pid_t(text)
    }
}
