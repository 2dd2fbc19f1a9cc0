import Foundation
import NUMAProc
import NUMASystem

/// Why kernel.numa_balancing could not be read, saved, written or restored.
public struct KernelBalancingError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The failed system call behind it, when there was one: EROFS (a
    /// read-only /proc/sys) and EACCES call for different ways out.
    public var cause: SystemError?
    public init(_ description: String, cause: SystemError? = nil) {
        self.description = description
        self.cause = cause
    }

    /// A failed write of `value` to the sysctl `path`, in words that say what to do.
    public static func write(_ value: Int, to path: String, errno code: Int32) -> KernelBalancingError {
        write(value, to: path, error: SystemError("write \(path)", errno: code))
    }

    /// A failed write of `value` to the sysctl `path`, in words that say what to do.
    public static func write(_ value: Int, to path: String, error: SystemError) -> KernelBalancingError {
        let base = "cannot write \(value) to \(path): \(Errno.message(error.errno))"
        switch error.errno {
        case Errno.accessDenied, Errno.notPermitted:
            return KernelBalancingError(base + ": writing kernel.numa_balancing needs CAP_SYS_ADMIN (and root); "
                + "under systemd the unit's `ExecStartPre=+numabalance prepare --kernel-balancing` writes it "
                + "with full privileges (as numabalance.service has), or set `kernelBalancing: warn`, "
                + "which leaves the sysctl alone", cause: error)
        case Errno.readOnly:
            return KernelBalancingError(base + ": /proc/sys is read-only here (ProtectKernelTunables=); under "
                + "systemd the unit's `ExecStartPre=+numabalance prepare --kernel-balancing` writes it "
                + "before the daemon starts: add that line (as numabalance.service has), or set `kernelBalancing: warn`",
                cause: error)
        default:
            return KernelBalancingError(base, cause: error)
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
                + "; this kernel may lack CONFIG_NUMA_BALANCING: set `kernelBalancing: leave`", cause: error.cause)
        }
        guard found != 0 else { return 0 }
        try save(found, holder: holder)
        do { try write(0) } catch {
            // Not disabled after all: nothing to restore at the next start.
            _ = FileIO.remove(savedPath)
            FileIO.syncDirectory(stateDirectory)
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
                + "\(sysctlPath) yourself (usually 1) and remove \(savedPath)", cause: error.cause)
        }
        try write(value)
        if case .failure(let error) = FileIO.remove(savedPath, missingIsFine: true) {
            throw KernelBalancingError("restored \(sysctlPath) to \(value) but cannot remove \(savedPath): "
                + "\(Errno.message(error.errno)); remove it, or the next start restores it again", cause: error)
        }
        FileIO.syncDirectory(stateDirectory)
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

    /// A sysctl takes its value in one write(2).
    private func write(_ value: Int) throws(KernelBalancingError) {
        if case .failure(let error) = FileIO.write(sysctlPath, Array("\(value)\n".utf8)) {
            throw .write(value, to: sysctlPath, error: error)
        }
    }

    /// The value and its holder, replaced atomically: a fresh file of our
    /// own beside it (a leftover or a planted symlink is removed, never
    /// followed or truncated), fsynced, renamed over, the folder fsynced.
    private func save(_ value: Int, holder: Holder) throws(KernelBalancingError) {
        if let problem = OwnFolder.prepare(stateDirectory) {
            throw KernelBalancingError("cannot save kernel.numa_balancing in \(stateDirectory): \(problem); "
                + "kernel.numa_balancing was left at \(value) (not disabled)")
        }
        let partial = savedPath + ".partial"
        let saved = FileIO.replaceAtomically(savedPath, with: Array("\(value) \(holder.rawValue)\n".utf8),
                                             permissions: 0o600, temporarySuffix: ".partial")
        guard case .failure(let error) = saved else { return }
        let what: String
        switch error.operation.prefix(while: { $0 != " " }) {
        case "rename": what = "rename \(partial) to \(savedPath)"
        case "open": what = "create \(partial)"
        case let call: what = "\(call) \(partial)"
        }
        throw KernelBalancingError("cannot \(what): \(Errno.message(error.errno)); "
            + "kernel.numa_balancing was left at \(value) (not disabled)", cause: error)
    }

    /// The integer a small file starts with (a sysctl; the saved value, then its holder).
    private static func integer(in path: String) throws(KernelBalancingError) -> Int {
        let words = try words(in: path)
        guard let first = words.first, let value = Int(first) else {
            throw KernelBalancingError("\(path) holds \"\(words.joined(separator: " ").prefix(20))\", not a number")
        }
        return value
    }

    /// The words of a small file (64 bytes at most are read), never through a symbolic link.
    private static func words(in path: String) throws(KernelBalancingError) -> [String] {
        let read = FileIO.withOpen(path, [.readOnly, .noFollow]) { FileIO.readOnce(fd: $0, count: 64, name: path) }
        switch read {
        case .success(let bytes):
            return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
        case .failure(let error):
            throw KernelBalancingError("cannot read \(path): \(Errno.message(error.errno))", cause: error)
        }
    }
}
