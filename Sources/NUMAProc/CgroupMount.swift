/// Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup on current
/// systems, /sys/fs/cgroup/unified on hybrid v1+v2 hosts.
public enum CgroupMount {
    /// The mount point of the first `cgroup2` file system in mountinfo text.
    public static func v2Root(mountinfo: String) -> String? {
        for line in mountinfo.split(separator: "\n") {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER"
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2, halves[1].split(separator: " ").first == "cgroup2" else { continue }
            let fields = halves[0].split(separator: " ")
            guard fields.count >= 5 else { continue }
            return unescapeOctal(String(fields[4]))
        }
        return nil
    }

    /// The v2 root seen by this process, or /sys/fs/cgroup when none is mounted.
    public static func v2Root(procfs: ProcFS) -> String {
        mountedV2Root(procfs: procfs) ?? "/sys/fs/cgroup"
    }

    /// The v2 root seen by this process; nil when no cgroup2 is mounted (or
    /// mountinfo cannot be read), for a caller that then reads no cpuset limits.
    public static func mountedV2Root(procfs: ProcFS = ProcFS()) -> String? {
        (try? procfs.readSystem("self/mountinfo")).flatMap { v2Root(mountinfo: $0) }
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescapeOctal(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
