// The cache folder: the unpacked kernel, the initramfs built from it, and the
// per-run work folders. Everything numa-lab fetches or builds lives here, so
// deleting it starts from scratch.
import Foundation
import Glibc

/// numa-lab's own messages go to stderr: stdout carries only the guest command's output.
func note(_ message: String) {
    FileHandle.standardError.write(Data("numa-lab: \(message)\n".utf8))
}

struct LabCache {
    let root: String

    /// `$NUMA_LAB_CACHE`, else /var/cache/numa-lab for root, else
    /// `$XDG_CACHE_HOME/numa-lab` (or ~/.cache/numa-lab).
    static func locate() -> LabCache {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["NUMA_LAB_CACHE"], !explicit.isEmpty {
            return LabCache(root: explicit)
        }
        if geteuid() == 0 { return LabCache(root: "/var/cache/numa-lab") }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(NSHomeDirectory())/.cache"
        return LabCache(root: "\(base)/numa-lab")
    }

    var kernelRoot: String { "\(root)/kernel" }
    var runsRoot: String { "\(root)/runs" }

    func create() throws {
        for folder in [root, kernelRoot, runsRoot] {
            try makeFolder(folder)
        }
    }

    /// Holds an exclusive lock on the cache while `body` fetches or builds, so
    /// two numa-lab runs started together do not unpack over each other.
    func withLock<R>(_ body: () throws -> R) throws -> R {
        try create()
        let fd = open("\(root)/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LabError("cannot open \(root)/lock: \(errnoText(errno))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw LabError("cannot lock \(root)/lock: \(errnoText(errno))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// A fresh work folder for one guest run, mode 0755 so that non-root users
    /// inside the guest can read what the control share holds.
    func makeRunFolder() throws -> String {
        try create()
        removeAbandonedRuns()
        let path = "\(runsRoot)/run-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        guard mkdir(path, 0o755) == 0 else {
            throw LabError("cannot create a work folder in \(runsRoot): \(errnoText(errno))")
        }
        chmod(path, 0o755)
        try "\(getpid())\n".write(toFile: "\(path)/owner", atomically: true, encoding: .utf8)
        return path
    }

    /// Work folders whose numa-lab died without cleaning up (SIGKILL): their
    /// qemu died with them (parent-death signal), so the folders can go.
    private func removeAbandonedRuns() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsRoot)) ?? []
        for name in names where name.hasPrefix("run-") {
            let folder = "\(runsRoot)/\(name)"
            guard let text = try? String(contentsOfFile: "\(folder)/owner", encoding: .utf8),
                  let owner = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            if kill(owner, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
    }
}

/// mkdir -p, then chmod 0755 (umask may have narrowed it).
func makeFolder(_ path: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw LabError("cannot create \(path): \(error.localizedDescription)")
    }
    chmod(path, 0o755)
}

func fileExists(_ path: String) -> Bool {
    access(path, F_OK) == 0
}

/// The first executable called `name` in PATH (or the extra folders), if any.
func findExecutable(_ name: String, extraFolders: [String] = []) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let folders = path.split(separator: ":").map(String.init) + extraFolders
    return folders.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
}
