import NUMAModel
import NUMASystem

/// Thin readers of /proc under a root path, so tests point them at a
/// fixture tree. Every file is read whole with read(2), then parsed.
public struct ProcFS: Sendable {
    /// "/proc" by default.
    public var root: String

    public init(root: String = "/proc") {
        self.root = root
    }

    /// The path of a pid's file: read(42, "task/43/stat") is "/proc/42/task/43/stat".
    public func path(_ pid: Int32, _ file: String) -> String {
        "\(root)/\(pid)/\(file)"
    }

    /// The text of a pid's file. ENOENT means the process is gone only when
    /// its folder is gone too (a sched file is missing without
    /// CONFIG_SCHED_DEBUG: that is .io); ESRCH (the process or its mm went
    /// away while the file was open, also a kernel thread's mm files) is
    /// .noSuchProcess; EACCES and EPERM are .permissionDenied.
    /// With `limit`, the file's first `limit` bytes at most.
    public func read(_ pid: Int32, _ file: String, limit: Int? = nil) throws(ProcReadError) -> String {
        let path = path(pid, file)
        switch FileIO.read(path, limit: limit) {
        case .success(let bytes):
            return String(decoding: bytes, as: UTF8.self)
        case .failure(let error):
            throw readError(pid, path: path, errno: error.errno)
        }
    }

    /// A file of the whole system: readSystem("zoneinfo"), readSystem("stat").
    public func readSystem(_ file: String) throws(ProcReadError) -> String {
        let path = "\(root)/\(file)"
        switch FileIO.read(path) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(let error): throw .io(path: path, errno: error.errno)
        }
    }

    /// Whether /proc/pid exists (a zombie still does).
    public func exists(_ pid: Int32) -> Bool {
        FileIO.exists("\(root)/\(pid)")
    }

    /// The thread ids in /proc/pid/task, sorted. Threads come and go: a
    /// caller that needs a stable set reads it until two reads agree.
    public func threadIDs(_ pid: Int32) throws(ProcReadError) -> [Int32] {
        let path = path(pid, "task")
        switch FileIO.list(path) {
        case .success(let names): return Self.numericNames(names)
        case .failure(let error): throw readError(pid, path: path, errno: error.errno)
        }
    }

    /// The numeric entries of the root: every visible process, sorted.
    public func pids() -> [Int32] {
        guard case .success(let names) = FileIO.list(root) else { return [] }
        return Self.numericNames(names)
    }

    /// Pids and tids: the entries that are positive decimal numbers, sorted.
    static func numericNames(_ names: [String]) -> [Int32] {
        names.compactMap { name -> Int32? in
            guard let value = ProcText.decimal(Array(name.utf8)[...]), let id = Int32(exactly: value), id > 0
            else { return nil }
            return id
        }.sorted()
    }

    func readError(_ pid: Int32, path: String, errno code: Int32) -> ProcReadError {
        switch code {
        case Errno.accessDenied, Errno.notPermitted: return .permissionDenied(pid: pid, path: path)
        case Errno.noSuchProcess: return .noSuchProcess(pid: pid)
        case Errno.notFound: return exists(pid) ? .io(path: path, errno: code) : .noSuchProcess(pid: pid)
        default: return .io(path: path, errno: code)
        }
    }

    /// Reads and parses a pid's file. A parse failure of a process that is
    /// gone by then (a short read at exit) is reported as .noSuchProcess.
    func parsed<T>(_ pid: Int32, _ file: String,
                   _ parse: (String, String) throws(ProcParseError) -> T) throws(ProcReadError) -> T {
        let text = try read(pid, file)
        do {
            return try parse(text, path(pid, file))
        } catch {
            throw exists(pid) ? .parse(error) : .noSuchProcess(pid: pid)
        }
    }
}

extension ProcFS {
    public func maps(_ pid: Int32) throws(ProcReadError) -> [Mapping] {
        try parsed(pid, "maps", Maps.parse)
    }

    /// The mappings in the first `limit` bytes of maps, and whether there
    /// were more: a look at a process is bounded whatever its mapping count
    /// (vm.max_map_count can be raised to millions). A line cut by the limit
    /// is dropped.
    public func maps(_ pid: Int32, limit: Int) throws(ProcReadError) -> (mappings: [Mapping], cut: Bool) {
        var text = try read(pid, "maps", limit: limit + 1)
        let cut = text.utf8.count > limit
        if cut, let lastNewline = text.utf8.lastIndex(of: UInt8(ascii: "\n")) {
            text = String(text[...lastNewline])
        }
        do {
            return (try Maps.parse(text, source: path(pid, "maps")), cut)
        } catch {
            throw exists(pid) ? .parse(error) : .noSuchProcess(pid: pid)
        }
    }

    public func status(_ pid: Int32) throws(ProcReadError) -> ProcessStatus {
        try parsed(pid, "status", Status.parse)
    }

    public func stat(_ pid: Int32) throws(ProcReadError) -> TaskStat {
        try parsed(pid, "stat", Stat.parse)
    }

    /// One thread's stat (/proc/pid/task/tid/stat): its CPU time and last CPU.
    public func taskStat(_ pid: Int32, _ tid: Int32) throws(ProcReadError) -> TaskStat {
        try parsed(pid, "task/\(tid)/stat", Stat.parse)
    }

    /// Walks every page table of the process under its mmap lock: costly on a
    /// big process, for ground truth only.
    public func numaMaps(_ pid: Int32) throws(ProcReadError) -> [NumaMapsEntry] {
        try parsed(pid, "numa_maps", NumaMaps.parse)
    }

    public func smapsRollup(_ pid: Int32) throws(ProcReadError) -> SmapsRollup {
        try parsed(pid, "smaps_rollup", SmapsRollupParser.parse)
    }

    /// The process's (or one thread's) sched file; .io(ENOENT) without CONFIG_SCHED_DEBUG.
    public func sched(_ pid: Int32, tid: Int32? = nil) throws(ProcReadError) -> SchedNUMA {
        try parsed(pid, tid.map { "task/\($0)/sched" } ?? "sched", Sched.parse)
    }

    /// Each node's summed zone watermarks, from root/zoneinfo.
    public func zoneWatermarks() throws(ProcReadError) -> [NodeID: ZoneWatermarks] {
        let text = try readSystem("zoneinfo")
        do { return try ZoneInfo.parse(text, source: "\(root)/zoneinfo") } catch { throw .parse(error) }
    }

    /// Per-CPU cumulative times from root/stat.
    public func cpuTimes() throws(ProcReadError) -> [CPUTimes] {
        let text = try readSystem("stat")
        do { return try ProcStat.parseCPUs(text, source: "\(root)/stat") } catch { throw .parse(error) }
    }

    /// Pid and start time (stat field 22): re-checked before every action so
    /// that a reused pid is never acted on.
    public func identity(_ pid: Int32) throws(ProcReadError) -> ProcessIdentity {
        ProcessIdentity(pid: pid, startTime: try stat(pid).startTimeTicks)
    }

    /// The program the process runs (the executable /proc/PID/exe leads to,
    /// with the effective uid given from its status); nil when the link
    /// cannot be followed (a kernel thread, an exiting process, no access).
    public func programImage(_ pid: Int32, euid: UInt32) -> ProgramImage? {
        guard case .success(let file) = FileIO.withOpen(path(pid, "exe"), Self.pathOnly, { FileStatus.of(fd: $0) })
        else { return nil }
        return ProgramImage(euid: euid, device: file.device, inode: file.inode)
    }

    /// O_PATH, which Swift's Glibc lacks: a descriptor to fstat, opened without read access.
    static let pathOnly = OpenOptions(rawValue: 0o10000000)
}
