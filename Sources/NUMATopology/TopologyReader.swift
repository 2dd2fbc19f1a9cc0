import NUMAModel
import NUMAProc
import NUMASystem

/// Why the topology could not be read.
public struct TopologyError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    /// The errno when a file could not be read (nil when it could, but made no sense).
    public var errno: Int32?

    public init(path: String, reason: String, errno: Int32? = nil) {
        self.path = path
        self.reason = reason
        self.errno = errno
    }

    /// "/sys/…/node0/meminfo: cannot be read: ENOENT (no such file or directory)".
    public var description: String {
        guard let errno else { return "\(path): \(reason)" }
        return "\(path): \(reason): \(Errno.text(errno))"
    }
}

/// Discovers the NUMA topology from sysfs and procfs. Both roots are paths so
/// tests can point them at fixture trees; node ids may be sparse (0, 2, 5).
public struct TopologyReader: Sendable {
    public var sysRoot: String
    public var procRoot: String

    public init(sysRoot: String = "/sys", procRoot: String = "/proc") {
        self.sysRoot = sysRoot
        self.procRoot = procRoot
    }

    var nodeDirectory: String { sysRoot + "/devices/system/node" }

    /// Nodes, their CPUs, memory and reserve, and the distance matrix.
    public func read() throws(TopologyError) -> Topology {
        let onlinePath = nodeDirectory + "/online"
        guard let online = readIfPresent(onlinePath) else {
            // A kernel without CONFIG_NUMA: the whole machine is node 0.
            return try singleNodeTopology()
        }
        let ids: [Int]
        do { ids = try parseIDList(online).sorted() } catch {
            throw TopologyError(path: onlinePath, reason: error.description)
        }
        guard !ids.isEmpty else { throw TopologyError(path: onlinePath, reason: "no online node") }
        let watermarks = (try? ProcFS(root: procRoot).zoneWatermarks()) ?? [:]
        let pageSize = UInt64(Host.pageSize)

        var nodes: [Node] = []
        var distances: [[Int]] = []
        for id in ids {
            let dir = nodeDirectory + "/node\(id)"
            let cpus = try cpuList(dir + "/cpulist")
            let meminfo = try parsed(dir + "/meminfo") { text, source throws(ProcParseError) in
                try NodeFiles.parseMeminfo(text, source: source)
            }
            let row = try parsed(dir + "/distance") { text, source throws(ProcParseError) in
                try NodeFiles.parseDistance(text, source: source)
            }
            guard row.count == ids.count else {
                throw TopologyError(path: dir + "/distance",
                                    reason: "\(row.count) distances for \(ids.count) online nodes")
            }
            let high = (watermarks[NodeID(id)]?.highPages ?? 0) * pageSize
            nodes.append(Node(id: NodeID(id), cpus: cpus,
                              memTotalBytes: meminfo["MemTotal"] ?? 0,
                              memFreeBytes: meminfo["MemFree"] ?? 0,
                              highWatermarkBytes: high, coreCount: coreCount(of: cpus)))
            distances.append(row)
        }
        return Topology(nodes: nodes, distances: distances, isolatedCPUs: isolatedCPUs())
    }

    /// Distinct cores among the CPUs (their thread_siblings_list); nil when
    /// sysfs does not say.
    func coreCount(of cpus: CPUSet) -> Int? {
        var cores = Set<String>()
        for cpu in cpus {
            guard let text = readIfPresent(sysRoot + "/devices/system/cpu/cpu\(cpu)/topology/thread_siblings_list")
            else { return nil }
            cores.insert(text.trimmingWhitespace())
        }
        return cores.count
    }

    /// isolcpus: CPUs out of the scheduler's balancing, given to no process
    /// by default. Empty when the file is absent or empty.
    func isolatedCPUs() -> CPUSet {
        guard let text = readIfPresent(sysRoot + "/devices/system/cpu/isolated"),
              let ids = try? parseIDList(text.trimmingWhitespace()) else { return CPUSet() }
        return CPUSet(ids)
    }

    private func singleNodeTopology() throws(TopologyError) -> Topology {
        let cpus = try cpuList(sysRoot + "/devices/system/cpu/online")
        let meminfo = try parsed(procRoot + "/meminfo") { text, source throws(ProcParseError) in
            try NodeFiles.parseMeminfo(text, source: source)
        }
        let node = Node(id: 0, cpus: cpus, memTotalBytes: meminfo["MemTotal"] ?? 0,
                        memFreeBytes: meminfo["MemFree"] ?? 0)
        return Topology(nodes: [node], distances: [[10]])
    }

    private func cpuList(_ path: String) throws(TopologyError) -> CPUSet {
        let text = try contents(path)
        do { return try CPUSet(listFormat: text) } catch {
            throw TopologyError(path: path, reason: error.description)
        }
    }

    private func parsed<T>(_ path: String,
                           _ parse: (String, String) throws(ProcParseError) -> T) throws(TopologyError) -> T {
        let text = try contents(path)
        do { return try parse(text, path) } catch {
            throw TopologyError(path: path, reason: error.reason)
        }
    }

    func contents(_ path: String) throws(TopologyError) -> String {
        switch FileIO.read(path) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(let error): throw TopologyError(path: path, reason: "cannot be read", errno: error.errno)
        }
    }

    /// The file's text, nil when it cannot be read (an optional sysfs file).
    func readIfPresent(_ path: String) -> String? {
        guard case .success(let bytes) = FileIO.read(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
