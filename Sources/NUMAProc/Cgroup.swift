import NUMAModel
import NUMASystem

public enum Cgroup {
    /// The cgroup v2 path of /proc/pid/cgroup: the "0::/path" line. Nil on
    /// a v1-only system (or an empty file). v1 lines ("4:memory:/x") are
    /// checked for shape and skipped. A path may contain ':' and may end in
    /// " (deleted)" when the cgroup was removed.
    public static func parseMembership(_ text: String, source: String = "cgroup") throws(ProcParseError) -> String? {
        var v2: String?
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            guard let (id, rest) = line.split(at: UInt8(ascii: ":")),
                  let colon = rest.firstIndex(of: UInt8(ascii: ":")),
                  let hierarchy = ProcText.decimal(id)
            else { throw line.fail("expected \"id:controllers:path\", got \(ProcText.quoted(line.bytes))") }
            let controllers = rest[rest.startIndex..<colon]
            let path = rest[(colon + 1)...]
            guard path.first == UInt8(ascii: "/") else {
                throw line.fail("cgroup path is not absolute: \(ProcText.quoted(path))")
            }
            if hierarchy == 0, controllers.isEmpty, v2 == nil { v2 = ProcText.string(path) }
        }
        return v2
    }

    /// The path's components below the cgroup root, for walking up to it:
    /// " (deleted)" dropped, "." skipped, ".." (a cgroup outside this
    /// namespace's view) climbs but never above the root.
    static func components(of path: String) -> [String] {
        var trimmed = Substring(path)
        if trimmed.hasSuffix(" (deleted)") { trimmed = trimmed.dropLast(" (deleted)".count) }
        var result: [String] = []
        for part in trimmed.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !result.isEmpty { result.removeLast() }
            default: result.append(String(part))
            }
        }
        return result
    }
}

/// The CPUs and memory nodes a process's cgroup lets it use (cgroup v2
/// cpuset.cpus.effective and cpuset.mems.effective): the limit numabalance
/// must stay inside, unlike Cpus_allowed, which is mere affinity.
public struct EffectiveCpuset: Hashable, Sendable {
    /// The v2 path from /proc/pid/cgroup ("/" when the process has none).
    public var cgroupPath: String
    /// Nil when no cgroup from the process's up to the root has the file
    /// (no cpuset controller anywhere): then only the topology limits.
    public var cpus: CPUSet?
    public var mems: [NodeID]?

    public init(cgroupPath: String, cpus: CPUSet? = nil, mems: [NodeID]? = nil) {
        self.cgroupPath = cgroupPath
        self.cpus = cpus
        self.mems = mems
    }
}

extension ProcFS {
    /// The process's v2 cgroup path (nil on a v1-only system).
    public func cgroupPath(_ pid: Int32) throws(ProcReadError) -> String? {
        try parsed(pid, "cgroup", Cgroup.parseMembership)
    }

    /// The cpuset limits of the process's cgroup: cpuset.cpus.effective and
    /// cpuset.mems.effective under `cgroupRoot` + its v2 path. A cgroup whose
    /// parent does not enable the cpuset controller has no such files, and
    /// its limits are its nearest ancestor's, so the walk goes up to the
    /// root. A field stays nil when no cgroup on the way has the file (no
    /// cpuset controller, or cgroup v1 only).
    public func effectiveCpuset(_ pid: Int32, cgroupRoot: String = "/sys/fs/cgroup") throws(ProcReadError) -> EffectiveCpuset {
        let cgroupPath = try self.cgroupPath(pid) ?? "/"
        let components = Cgroup.components(of: cgroupPath)
        var result = EffectiveCpuset(cgroupPath: cgroupPath)
        for depth in stride(from: components.count, through: 0, by: -1) {
            let folder = ([cgroupRoot] + components.prefix(depth)).joined(separator: "/")
            if result.cpus == nil, let text = try readIfPresent(folder + "/cpuset.cpus.effective") {
                do {
                    result.cpus = try CPUSet(listFormat: text)
                } catch {
                    throw .parse(ProcParseError(source: folder + "/cpuset.cpus.effective", line: 1,
                                                reason: error.description))
                }
            }
            if result.mems == nil, let text = try readIfPresent(folder + "/cpuset.mems.effective") {
                result.mems = try parseNodes(text, source: folder + "/cpuset.mems.effective")
            }
            if result.cpus != nil && result.mems != nil { break }
        }
        return result
    }

    /// A cgroup file's text, nil when it (or its folder) does not exist.
    func readIfPresent(_ path: String) throws(ProcReadError) -> String? {
        switch FileIO.read(path) {
        case .success(let bytes):
            return String(decoding: bytes, as: UTF8.self)
        case .failure(let error) where error.errno == Errno.notFound || error.errno == Errno.notDirectory:
            return nil
        case .failure(let error):
            throw .io(path: path, errno: error.errno)
        }
    }

    func parseNodes(_ text: String, source: String) throws(ProcReadError) -> [NodeID] {
        do { return try NodeFiles.parseNodeList(text, source: source) } catch { throw .parse(error) }
    }
}
