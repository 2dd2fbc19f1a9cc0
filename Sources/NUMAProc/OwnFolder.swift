import NUMASystem

/// A folder this process keeps state in (the journal, the instance lock, the
/// saved kernel.numa_balancing): a directory, not a symbolic link to one,
/// owned by this user or root, writable by no one else. In a folder others
/// can write, a file can be swapped for a link to any file (which root would
/// then truncate or append to), or filled with forged lines that `restore`
/// would replay as root (security review 3.1, 3.3).
public enum OwnFolder {
    /// Why `folder` may not be used, or nil: it is fine, or missing.
    public static func problem(_ folder: String) -> String? {
        guard !folder.isEmpty else { return nil }
        guard case .success(let info) = FileStatus.of(folder, followLinks: false) else { return nil }
        guard info.kind == .directory else {
            return "\(folder) is not a directory (a symbolic link?): refused; choose a folder of your own"
        }
        let me = Host.effectiveUID
        guard info.uid == me || info.uid == 0 else {
            return "\(folder) belongs to uid \(info.uid), not to uid \(me): refused; choose a folder of your own"
        }
        guard !info.writableByOthers else {
            return "\(folder) is writable by group or others (mode \(String(info.permissions, radix: 8))): "
                + "refused; chmod go-w it, or choose a folder of your own"
        }
        return nil
    }

    /// Creates `folder` with `mode` when missing (its missing parents 0755),
    /// then checks it (the folder itself: /run or /tmp above it are shared
    /// by design). Nil when it can be used, else why not.
    public static func prepare(_ folder: String, mode: UInt32 = 0o700) -> String? {
        var path = folder.hasPrefix("/") ? "" : "."
        let parts = folder.split(separator: "/", omittingEmptySubsequences: true)
        for (index, part) in parts.enumerated() {
            path += "/" + part
            let last = index == parts.count - 1
            if case .failure(let error) = FileIO.makeDirectory(path, permissions: last ? mode : 0o755) {
                return "cannot create \(path): \(Errno.text(error.errno))"
            }
        }
        return problem(folder)
    }
}
