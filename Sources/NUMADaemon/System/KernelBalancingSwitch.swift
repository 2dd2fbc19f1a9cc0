import Foundation
import Glibc
import NUMAProc

/// Why kernel.numa_balancing could not be read, saved, written or restored.
public struct KernelBalancingError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// A failed write of `value` to the sysctl `path`, in words that say what to do.
    public static func write(_ value: Int, to path: String, errno code: Int32) -> KernelBalancingError {
        let base = "cannot write \(value) to \(path): \(String(cString: strerror(code)))"
        switch code {
        case EACCES, EPERM:
            return KernelBalancingError(base + ": writing kernel.numa_balancing needs CAP_SYS_ADMIN (and root); "
                + "under systemd the unit's `ExecStartPre=+numabalance prepare --kernel-balancing` writes it "
                + "with full privileges (as numabalance.service has), or set `kernelBalancing: warn`, "
                + "which leaves the sysctl alone")
        case EROFS:
            return KernelBalancingError(base + ": /proc/sys is read-only here (ProtectKernelTunables=); under "
                + "systemd the unit's `ExecStartPre=+numabalance prepare --kernel-balancing` writes it "
                + "before the daemon starts: add that line (as numabalance.service has), or set `kernelBalancing: warn`")
        default:
            return KernelBalancingError(base)
        }
    }
}

/// `kernelBalancing: disable`: turns the kernel's NUMA balancer off while the
/// daemon runs and back on after, even after a crash. The value found is
/// saved in the state folder (atomically: temp file, fsync, rename, fsync of
/// the folder) before 0 is written, and the saved file is the only record:
/// while it exists, the sysctl is ours to restore.
///
/// Under systemd the service holds it, not the daemon: the unit's
/// `ExecStartPre=+numabalance prepare --kernel-balancing` saves and writes
/// 0 with full privileges, and its `ExecStopPost=+numabalance restore
/// --kernel-balancing` writes the value back, so the daemon runs with /proc/sys
/// read-only (ProtectKernelTunables=yes) and without CAP_SYS_ADMIN.
public struct KernelBalancingSwitch: Sendable {
    /// Who saved the value, and so restores it.
    public enum Holder: String, Sendable {
        /// A daemon started by hand: at its exit, or at the next start after a crash.
        case daemon
        /// The systemd unit: its ExecStopPost=+ after every stop.
        case service
    }

    public static let defaultSysctlPath = "/proc/sys/kernel/numa_balancing"
    public static let savedFileName = "numa_balancing.saved"

    public let sysctlPath: String
    public let stateDirectory: String
    /// `<stateDirectory>/numa_balancing.saved`.
    public var savedPath: String { stateDirectory + "/" + Self.savedFileName }

    public init(stateDirectory: String, sysctlPath: String = defaultSysctlPath) {
        self.stateDirectory = stateDirectory
        self.sysctlPath = sysctlPath
    }

    /// The sysctl's value (0 off, 1 normal, 2 memory tiering, 3 both), nil
    /// when it cannot be read (a kernel without CONFIG_NUMA_BALANCING).
    public func read() -> Int? {
        try? Self.integer(in: sysctlPath)
    }

    /// Saves the value found, then writes 0. Returns the value found. When
    /// it is already 0 nothing is saved or written: there is nothing to
    /// restore later.
    @discardableResult
    public func disable(holder: Holder = .daemon) throws(KernelBalancingError) -> Int {
        let found: Int
        do { found = try Self.integer(in: sysctlPath) } catch {
            throw KernelBalancingError(error.description
                + "; this kernel may lack CONFIG_NUMA_BALANCING: set `kernelBalancing: leave`")
        }
        guard found != 0 else { return 0 }
        try save(found, holder: holder)
        do { try write(0) } catch {
            // Not disabled after all: nothing to restore at the next start.
            unlink(savedPath)
            syncDirectory()
            throw error
        }
        return found
    }

    /// Writes the saved value back and removes the saved file. Returns the
    /// value restored, nil when nothing was saved.
    @discardableResult
    public func restore() throws(KernelBalancingError) -> Int? {
        guard FileManager.default.fileExists(atPath: savedPath) else { return nil }
        let value: Int
        do { value = try Self.integer(in: savedPath) } catch {
            throw KernelBalancingError(error.description + "; write the value you want to "
                + "\(sysctlPath) yourself (usually 1) and remove \(savedPath)")
        }
        try write(value)
        guard unlink(savedPath) == 0 || errno == ENOENT else {
            throw KernelBalancingError("restored \(sysctlPath) to \(value) but cannot remove \(savedPath): "
                + "\(String(cString: strerror(errno))); remove it, or the next start restores it again")
        }
        syncDirectory()
        return value
    }

    /// At start: a saved file left by a daemon that did not restore (a
    /// crash, SIGKILL, power loss) is restored now, so a crash never leaves
    /// the kernel balancer off. The service's own is left for its
    /// ExecStopPost=. Returns the value restored, nil when none was.
    @discardableResult
    public func recoverAfterCrash() throws(KernelBalancingError) -> Int? {
        guard savedHolder() != .service else { return nil }
        return try restore()
    }

    /// Who saved the value now saved; nil when none is. A file written
    /// before holders were recorded holds a number alone: a daemon's.
    public func savedHolder() -> Holder? {
        guard let words = try? Self.words(in: savedPath), !words.isEmpty else { return nil }
        return words.count > 1 ? Holder(rawValue: words[1]) ?? .daemon : .daemon
    }

    private func write(_ value: Int) throws(KernelBalancingError) {
        let fd = open(sysctlPath, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw .write(value, to: sysctlPath, errno: errno) }
        defer { close(fd) }
        let bytes = Array("\(value)\n".utf8)
        // A sysctl takes its value in one write(2).
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw .write(value, to: sysctlPath, errno: errno)
        }
    }

    private func save(_ value: Int, holder: Holder) throws(KernelBalancingError) {
        if let problem = OwnFolder.prepare(stateDirectory) {
            throw KernelBalancingError("cannot save kernel.numa_balancing in \(stateDirectory): \(problem); "
                + "kernel.numa_balancing was left at \(value) (not disabled)")
        }
        let partial = savedPath + ".partial"
        func failed(_ what: String, _ code: Int32) -> KernelBalancingError {
            KernelBalancingError("cannot \(what) \(partial): \(String(cString: strerror(code))); "
                + "kernel.numa_balancing was left at \(value) (not disabled)")
        }
        // A fresh file of our own: a leftover (or a planted symlink) is
        // removed, never followed or truncated.
        unlink(partial)
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failed("create", errno) }
        let bytes = Array("\(value) \(holder.rawValue)\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
        let code = errno
        guard written else { close(fd); unlink(partial); throw failed("write", code) }
        guard fsync(fd) == 0 else { let code = errno; close(fd); unlink(partial); throw failed("fsync", code) }
        close(fd)
        guard rename(partial, savedPath) == 0 else {
            let code = errno
            unlink(partial)
            throw KernelBalancingError("cannot rename \(partial) to \(savedPath): \(String(cString: strerror(code))); "
                + "kernel.numa_balancing was left at \(value) (not disabled)")
        }
        syncDirectory()
    }

    /// Makes a rename or unlink in the state folder durable.
    private func syncDirectory() {
        let fd = open(stateDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// The integer a small file starts with (a sysctl; the saved value, then its holder).
    private static func integer(in path: String) throws(KernelBalancingError) -> Int {
        let words = try words(in: path)
        guard let first = words.first, let value = Int(first) else {
            throw KernelBalancingError("\(path) holds \"\(words.joined(separator: " ").prefix(20))\", not a number")
        }
        return value
    }

    /// The words of a small file (64 bytes at most are read).
    private static func words(in path: String) throws(KernelBalancingError) -> [String] {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw KernelBalancingError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw KernelBalancingError("cannot read \(path): \(String(cString: strerror(errno)))") }
        return String(decoding: buffer[0..<n], as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
    }
}
