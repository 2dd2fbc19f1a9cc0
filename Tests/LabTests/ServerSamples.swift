// What real-servers-2x2.sh's sampler recorded about a server's processes,
// once a second (server-lib.sh's server_sample: numa_maps, stat, status),
// read here by the tests' own code: roles from PostgreSQL's process titles,
// locality as the share of a process's pages on the node of the CPU it last
// ran on, the buffers' placement as the backends map them.
import Foundation

/// One process at one sampling instant.
struct ServerSample: Decodable {
    var t: Double
    var pid: Int
    var state: String
    /// The CPU it last ran on (stat's processor field).
    var cpu: Int
    /// utime + stime in clock ticks (USER_HZ, 100 a second).
    var ticks: Int
    var allowed: String
    /// Pages per node of its shared memory: PostgreSQL's buffers (a
    /// MAP_SHARED|MAP_ANONYMOUS mapping, /dev/zero in numa_maps) and a tiny SysV segment.
    var shm: [String: Int]
    /// Pages per node of its private anonymous memory.
    var anon: [String: Int]
    var cmd: String

    var shmPages: Int { shm.values.reduce(0, +) }
    var anonPages: Int { anon.values.reduce(0, +) }

    /// The share of its pages on `node`.
    func share(on node: Int) -> Double? {
        let total = shmPages + anonPages
        guard total > 0 else { return nil }
        return Double((shm["\(node)"] ?? 0) + (anon["\(node)"] ?? 0)) / Double(total)
    }
}

/// CPU lists as the kernel writes them ("0-1,3").
enum CPUList {
    static func parse(_ list: String) -> Set<Int> {
        Set(list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2, ends[0] <= ends[1] { return Array(ends[0]...ends[1]) }
            return ends.count == 1 ? ends : []
        })
    }

    /// The kernel's form of a set: ranges joined by commas.
    static func format(_ cpus: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = cpus.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}

/// The guest's nodes, from the sysfs-nodes.txt the script wrote.
struct LabNodes {
    var cpus: [Int: [Int]]

    func node(ofCPU cpu: Int) -> Int? { cpus.first { $0.value.contains(cpu) }?.key }
    var allCPUs: Set<Int> { Set(cpus.values.joined()) }

    /// The node holding every CPU of a set, if one does.
    func singleNode(of set: Set<Int>) -> Int? {
        let nodes = Set(set.compactMap { node(ofCPU: $0) })
        return nodes.count == 1 ? nodes.first : nil
    }
}

/// One pgbench run's samples, grouped by instant.
struct ServerPhase {
    enum Role: Equatable { case postmaster, backend, idle, other }

    /// PostgreSQL 15's auxiliary processes that run whatever the load.
    static let idleRoles = ["checkpointer", "background writer", "walwriter", "autovacuum launcher",
                            "logical replication launcher"]

    var name: String
    var samples: [[ServerSample]]
    var postmaster: Int
    var nodes: LabNodes
    /// pgbench's start and end (guest uptime).
    var start: Double
    var end: Double
    private var previous: [String: ServerSample] = [:]

    init(_ run: LabRun, _ name: String) throws {
        self.name = name
        let lines = try run.text("\(name)-samples.jsonl").split(separator: "\n")
        let decoded = try lines.map { line in
            do { return try JSONDecoder().decode(ServerSample.self, from: Data(line.utf8)) } catch {
                throw LabFailure("\(name)-samples.jsonl: not a sample line (\(error)): \(line.prefix(300))")
            }
        }
        var groups: [[ServerSample]] = []
        for sample in decoded {
            if let last = groups.last?.first, last.t == sample.t { groups[groups.count - 1].append(sample) } else { groups.append([sample]) }
        }
        guard !groups.isEmpty else { throw LabFailure("\(name)-samples.jsonl is empty") }
        samples = groups
        let postmasterFile = name == "pgbase" ? "pgbase-postmaster.txt" : "pg-postmaster.txt"
        postmaster = try Int(run.trimmed(postmasterFile)) ?? -1
        nodes = try run.nodes()
        start = try run.mark("\(name)-start")
        end = try run.mark("\(name)-end")
        for (earlier, later) in zip(groups, groups.dropFirst()) {
            let byPID = Dictionary(earlier.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
            for sample in later { if let before = byPID[sample.pid] { previous["\(sample.pid)@\(sample.t)"] = before } }
        }
    }

    func role(of sample: ServerSample) -> Role {
        if sample.pid == postmaster { return .postmaster }
        // pgbench's connections: user postgres, database bench.
        if sample.cmd.hasPrefix("postgres: postgres bench ") { return .backend }
        if idleRole(of: sample) != nil { return .idle }
        return .other
    }

    /// "postmaster" or the auxiliary process's name, for the processes that must be left alone.
    func idleRole(of sample: ServerSample) -> String? {
        if sample.pid == postmaster { return "postmaster" }
        return Self.idleRoles.first { sample.cmd == "postgres: \($0)" }
    }

    var lastSample: [ServerSample] { samples.last ?? [] }

    /// The CPUs' worth it used since its previous sample.
    func cpuShare(of sample: ServerSample) -> Double? {
        guard let before = previous["\(sample.pid)@\(sample.t)"], sample.t > before.t else { return nil }
        return Double(sample.ticks - before.ticks) / 100 / (sample.t - before.t)
    }

    /// The share of a backend's pages on the node of the CPU it last ran on.
    func locality(of sample: ServerSample) -> Double? {
        nodes.node(ofCPU: sample.cpu).flatMap { sample.share(on: $0) }
    }

    /// The buffers' pages per node as the active backends map them (summed
    /// over backends: a page two of them use counts twice, as it is used twice).
    func bufferShares(_ group: [ServerSample]) -> [Int: Double] {
        var pages: [Int: Int] = [:]
        for sample in group where role(of: sample) == .backend {
            for (node, count) in sample.shm { if let node = Int(node) { pages[node, default: 0] += count } }
        }
        let total = pages.values.reduce(0, +)
        guard total > 0 else { return [:] }
        return pages.mapValues { Double($0) / Double(total) }
    }

    /// Whether, at one instant, `backends` backends run on one node, each at
    /// least `target` local, with at least `target` of their buffers there.
    func onOneNode(_ group: [ServerSample], backends count: Int, target: Double) -> Bool {
        let backends = group.filter { role(of: $0) == .backend }
        guard backends.count == count else { return false }
        let nodesRun = Set(backends.compactMap { nodes.node(ofCPU: $0.cpu) })
        guard nodesRun.count == 1, let node = nodesRun.first else { return false }
        return backends.allSatisfy { (locality(of: $0) ?? 0) >= target } && (bufferShares(group)[node] ?? 0) >= target
    }

    /// The instants all of pgbench's connections were there, each with its
    /// buffers sampled (as many such backends as at the busiest instant).
    /// Its clients leave one by one between their last query and the end
    /// mark: a sample then finds some backends gone and others exiting,
    /// their mappings already unreadable (once failed a count of 4 with 2).
    var withBackends: [[ServerSample]] {
        let live = { (group: [ServerSample]) in group.filter { role(of: $0) == .backend && $0.shmPages > 0 }.count }
        let most = samples.map(live).max() ?? 0
        return samples.filter { group in most > 0 && (group.first?.t ?? 0) <= end && live(group) == most }
    }

    /// The instants of pgbench's last `seconds` (ending at the last one with backends).
    func lastSeconds(_ seconds: Double) -> [[ServerSample]] {
        let groups = withBackends
        guard let last = groups.last?.first?.t else { return [] }
        return groups.filter { ($0.first?.t ?? 0) >= last - seconds }
    }

    /// Seconds from pgbench's start to the first instant of the run of
    /// instants at the target that lasts to the last instant with backends
    /// (at least 5 instants), or nil.
    func timeToOneNode(backends count: Int, target: Double) -> Double? {
        var reached: Double?
        var held = 0
        for group in withBackends.reversed() {
            guard onOneNode(group, backends: count, target: target) else { break }
            reached = group.first?.t
            held += 1
        }
        guard held >= 5, let reached else { return nil }
        return max(0, reached - start)
    }

    /// One line an instant: each backend's node, locality and CPU use, the
    /// buffers' shares, and any other server process not on every CPU.
    var timeline: String {
        let all = nodes.allCPUs
        var lines = ["\(name): t, backends (pid node:locality cpu-share), buffers per node, processes pinned"]
        for group in samples {
            guard let t = group.first?.t else { continue }
            let backends = group.filter { role(of: $0) == .backend }.map { sample in
                "\(sample.pid) \(nodes.node(ofCPU: sample.cpu).map(String.init) ?? "?"):"
                    + (locality(of: sample).map { String(format: "%.2f", $0) } ?? "-")
                    + (cpuShare(of: sample).map { String(format: " %.2f", $0) } ?? "")
                    + (CPUList.parse(sample.allowed) == all ? "" : " [\(sample.allowed)]")
            }
            let buffers = bufferShares(group).sorted { $0.key < $1.key }.map { "N\($0.key)=\(String(format: "%.2f", $0.value))" }
            let pinned = group.filter { role(of: $0) != .backend && CPUList.parse($0.allowed) != all }
                .map { "\($0.pid)[\($0.allowed)]" }
            lines.append(String(format: "%6.1f ", t - start) + backends.joined(separator: ", ") + " | " + buffers.joined(separator: " ")
                + (pinned.isEmpty ? "" : " | pinned " + pinned.joined(separator: " ")))
        }
        return lines.joined(separator: "\n")
    }
}

extension LabRun {
    /// The guest's nodes and their CPUs (describe_nodes).
    func nodes() throws -> LabNodes {
        var cpus: [Int: [Int]] = [:]
        for line in try text("sysfs-nodes.txt").split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let first = words.first, first.hasPrefix("node"), let node = Int(first.dropFirst(4)),
                  let list = words.first(where: { $0.hasPrefix("cpus=") }) else { continue }
            cpus[node] = CPUList.parse(String(list.dropFirst(5))).sorted()
        }
        guard !cpus.isEmpty else { throw LabFailure("no nodes in sysfs-nodes.txt") }
        return LabNodes(cpus: cpus)
    }

    /// A mark's guest uptime.
    func mark(_ name: String) throws -> Double {
        for line in try text("marks.txt").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == name, let t = Double(parts[1]) { return t }
        }
        throw LabFailure("no \(name) mark in marks.txt")
    }

    /// Which of the phases ran (a run of some sections has fewer).
    func serverPhases(_ names: [String]) throws -> [String] {
        let present = names.filter { FileManager.default.fileExists(atPath: outFolder.appendingPathComponent("\($0)-samples.jsonl").path) }
        guard present.count == names.count else { throw LabFailure("samples missing: ran \(present) of \(names)") }
        return present
    }

    /// The 8 KiB blocks pg_prewarm read (its psql output's one number).
    func prewarmedBlocks(_ name: String) throws -> Int {
        let text = try text("\(name)-prewarm.txt")
        guard let blocks = text.split(whereSeparator: \.isWhitespace).compactMap({ Int($0) }).last, blocks > 0 else {
            throw LabFailure("no block count in \(name)-prewarm.txt: \(text)")
        }
        return blocks
    }

    /// pgbench's "tps = N (without initial connection time)".
    func pgbenchTPS(_ name: String) throws -> Double {
        let log = try text("\(name)-pgbench.log")
        guard try code("\(name)-pgbench.rc") == 0,
              let line = log.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst(6).prefix { $0 != " " }), tps > 0
        else { throw LabFailure("pgbench \(name) failed or printed no tps:\n\(log)") }
        return tps
    }

    /// The pages of a snapshot's largest writable private mapping (a JVM's heap).
    func largestWritableMappingPages(_ snapshot: String) throws -> Int {
        try text("\(snapshot)-maps.txt").split(separator: "\n").compactMap { line -> Int? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("rw"), case let ends = fields[0].split(separator: "-"),
                  ends.count == 2, let start = UInt64(ends[0], radix: 16), let end = UInt64(ends[1], radix: 16) else { return nil }
            return Int((end - start) / 4096)
        }.max() ?? 0
    }

    /// The end of the standalone daemon's log, for failure messages.
    var daemonTail: String { "--- daemon log (end)\n" + String(contents("standalone-daemon.log").suffix(4000)) }
}
