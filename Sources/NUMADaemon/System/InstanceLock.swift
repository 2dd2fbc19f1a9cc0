import Foundation
import NUMAProc
import NUMASystem
import Synchronization

/// Why the instance lock could not be taken.
public struct InstanceLockError: Error, CustomStringConvertible, Sendable {
    /// The pid written in the lock file by the holder, when one holds it.
    public var holder: Int32?
    public var description: String
    /// The failed system call behind it, when there was one.
    public var cause: SystemError?
    public init(_ description: String, holder: Int32? = nil, cause: SystemError? = nil) {
        self.description = description
        self.holder = holder
        self.cause = cause
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
        let opened: Int32
        switch FileIO.open(path, [.readWrite, .create, .noFollow], permissions: 0o600) {
        case .success(let fd): opened = fd
        case .failure(let error) where error.errno == Errno.symbolicLoop:
            throw InstanceLockError("the lock file \(path) is a symbolic link: refused", cause: error)
        case .failure(let error):
            throw InstanceLockError("cannot open the lock file \(path): \(Errno.message(error.errno))", cause: error)
        }
        if case .failure(let error) = FileIO.lockExclusive(fd: opened, name: path) {
            let holder = Self.pid(in: opened)
            FileIO.close(opened)
            if error.errno == Errno.wouldBlock {
                let who = holder.map { "pid \($0)" } ?? "pid unknown"
                throw InstanceLockError("another numabalance is running (\(who), holds \(path)); "
                    + "stop it first (systemctl stop numabalance) or use its control socket", holder: holder, cause: error)
            }
            throw InstanceLockError("cannot lock \(path): \(Errno.message(error.errno))", cause: error)
        }
        // Ours now: the pid replaces whatever a previous holder wrote (at
        // offset 0: nothing was read through this descriptor's offset).
        let name = path
        let written = FileIO.truncate(fd: opened, name: name)
            .flatMap { FileIO.writeAll(fd: opened, Array("\(Host.pid)\n".utf8), name: name) }
        if case .failure(let error) = written {
            FileIO.close(opened)
            throw InstanceLockError("cannot write our pid into \(path): \(Errno.message(error.errno))", cause: error)
        }
        fd = Mutex(opened)
    }

    deinit { release() }

    /// Drops the lock (closing the file does); safe to call more than once.
    public func release() {
        fd.withLock { fd in
            guard fd >= 0 else { return }
            FileIO.close(fd)
            fd = -1
        }
    }

    /// True until `release()`.
    public var isHeld: Bool { fd.withLock { $0 >= 0 } }

    /// The pid the holder wrote, read through our own descriptor.
    private static func pid(in fd: Int32) -> Int32? {
        guard case .success(let bytes) = FileIO.read(fd: fd, count: 32, at: 0), !bytes.isEmpty else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text)
    }
}
