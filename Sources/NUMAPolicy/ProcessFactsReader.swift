import NUMAProc
import NUMASystem

/// Reads what policy matching needs of a running process from /proc: the
/// cheap files only (stat, comm, cmdline, exe, cgroup), so the daemon can
/// match every process it discovers without sampling it.
public struct ProcessFactsReader: Sendable {
    public var procfs: ProcFS
    private let userNames: [UInt32: String]

    public init(procfs: ProcFS = ProcFS(), passwd: String = "/etc/passwd") {
        self.procfs = procfs
        userNames = Self.userNames(passwd: passwd)
    }

    /// Nil when the process is gone or is a kernel thread (never matched).
    /// `stat` may be given when the caller has just read it.
    public func facts(_ pid: Int32, stat given: TaskStat? = nil, cpuShare: Double? = nil) -> ProcessFacts? {
        guard let stat = given ?? (try? procfs.stat(pid)), !stat.isKernelThread else { return nil }
        let cmdline = ((try? procfs.read(pid, "cmdline", limit: ProcessFacts.commandLineLimit)) ?? "")
            .split(separator: "\0").map(String.init)
        let exe = try? FileLink.target(of: procfs.path(pid, "exe")).get()
        let uid = realUID(pid)
        return ProcessFacts(pid: pid, comm: stat.comm, exe: exe, cmdline: cmdline,
                            cgroupPath: (try? procfs.cgroupPath(pid)) ?? nil, uid: uid,
                            userName: userNames[uid], rssBytes: stat.rssBytes,
                            cpuShare: cpuShare)
    }

    /// The real uid, status's first Uid: field. Not the owner of /proc/PID,
    /// which is the effective uid (root for a user's setuid-root program,
    /// which would then match `user: root`: security review 1.5) and root
    /// for any process that is not dumpable.
    private func realUID(_ pid: Int32) -> UInt32 {
        (try? procfs.status(pid))?.uids.first ?? UInt32.max
    }

    private static func userNames(passwd: String) -> [UInt32: String] {
        guard case .success(let bytes) = FileIO.read(passwd) else { return [:] }
        let text = String(decoding: bytes, as: UTF8.self)
        var names: [UInt32: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count > 2, let uid = UInt32(fields[2]) else { continue }
            if names[uid] == nil { names[uid] = String(fields[0]) }
        }
        return names
    }
}
