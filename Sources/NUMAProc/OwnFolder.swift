import Glibc

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
        var info = stat()
        guard lstat(folder, &info) == 0 else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return "\(folder) is not a directory (a symbolic link?): refused; choose a folder of your own"
        }
        guard info.st_uid == geteuid() || info.st_uid == 0 else {
            return "\(folder) belongs to uid \(info.st_uid), not to uid \(geteuid()): refused; choose a folder of your own"
        }
        guard info.st_mode & 0o022 == 0 else {
            return "\(folder) is writable by group or others (mode \(String(info.st_mode & 0o7777, radix: 8))): "
                + "refused; chmod go-w it, or choose a folder of your own"
        }
        return nil
    }

    /// Creates `folder` with `mode` when missing (its missing parents 0755),
    /// then checks it (the folder itself: /run or /tmp above it are shared
    /// by design). Nil when it can be used, else why not.
    public static func prepare(_ folder: String, mode: mode_t = 0o700) -> String? {
        var path = folder.hasPrefix("/") ? "" : "."
        let parts = folder.split(separator: "/", omittingEmptySubsequences: true)
        for (index, part) in parts.enumerated() {
            path += "/" + part
            let last = index == parts.count - 1
            guard mkdir(path, last ? mode : 0o755) == 0 || errno == EEXIST else {
                return "cannot create \(path): \(String(cString: strerror(errno)))"
            }
        }
        return problem(folder)
    }
}
