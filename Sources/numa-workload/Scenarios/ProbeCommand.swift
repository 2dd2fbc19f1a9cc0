// The lab's ruler: the true locality of running processes, from numa_maps
// (every page, not a sample) and their threads' CPUs, once a second, so the
// tests can time a balancer without trusting its own report.
import ArgumentParser
import Foundation

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Print the exact locality of processes once a period, as JSON lines.",
        discussion: """
            Per process: pages per node from /proc/PID/numa_maps (anonymous and \
            shared memory; file pages skipped) and the running threads' nodes \
            (state R, from the CPU each last ran on; every thread with --all-threads); locality = Σ page share × \
            thread share. Also: pgmigrate_success since the first line, and per \
            node the busy threads whose affinity keeps them on that node (busy: \
            half a CPU or more since the previous line; none on the first) \
            against its CPUs ("overfull" when more). Ends after --seconds, or \
            once every process has stayed at or above --until for --hold periods.
            """,
        shouldDisplay: false
    )

    @Option(help: "Process ids, comma-separated.") var pids: String
    @Option(help: "Seconds between lines.") var every = 1.0
    @Option(help: "Stop after this many seconds.") var seconds = 60.0
    @Option(help: "Stop once every process is at least this local…") var until: Double?
    @Option(help: "…for this many periods in a row.") var hold = 3
    @Flag(help: "--until applies to the mean over the processes, not to each.") var mean = false
    @Flag(help: "Count every thread at the CPU it last ran on, not only running ones (threads busy a few percent of the time are rarely seen running).")
    var allThreads = false

    func run() throws {
        let pidList = pids.split(separator: ",").compactMap { Int32($0) }
        let nodes = NodeMap.read()
        let start = Date()
        let migratedAtStart = vmstat("pgmigrate_success")
        var held = 0
        var usage = ThreadCPU()
        while Date().timeIntervalSince(start) < seconds {
            usage.next()
            var line: [String: Any] = ["t": (Date().timeIntervalSince(start) * 10).rounded() / 10,
                                       "migrated": vmstat("pgmigrate_success") - migratedAtStart]
            var localities: [String: Double] = [:]
            var busyPinned: [Int: Int] = [:]
            for pid in pidList {
                if let value = locality(pid: pid, nodes: nodes, usage: &usage, busyPinned: &busyPinned) {
                    localities["\(pid)"] = value
                }
            }
            line["locality"] = localities
            line["busyPinned"] = Dictionary(uniqueKeysWithValues: busyPinned.map { ("\($0.key)", $0.value) })
            line["overfull"] = busyPinned.contains { $0.value > (nodes.cpuCount[$0.key] ?? 0) }
            let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            let average = localities.values.reduce(0, +) / Double(max(localities.count, 1))
            if let until, localities.count == pidList.count,
               mean ? average >= until : localities.values.allSatisfy({ $0 >= until }) {
                held += 1
                if held >= hold { return }
            } else {
                held = 0
            }
            Thread.sleep(forTimeInterval: every)
        }
    }

    private func locality(pid: Int32, nodes: NodeMap, usage: inout ThreadCPU, busyPinned: inout [Int: Int]) -> Double? {
        guard let numaMaps = ProcFile.text("/proc/\(pid)/numa_maps") else { return nil }
        var pages: [Int: Double] = [:]
        for line in numaMaps.split(separator: "\n") where !line.contains(" file=") || line.contains("SYSV")
            || line.contains("/dev/zero") || line.contains("/dev/shm") {
            for field in line.split(separator: " ") where field.hasPrefix("N") {
                let parts = field.dropFirst().split(separator: "=")
                if parts.count == 2, let node = Int(parts[0]), let count = Double(parts[1]) { pages[node, default: 0] += count }
            }
        }
        var threads: [Int: Double] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for tid in tasks {
            guard let stat = ProcFile.text("/proc/\(pid)/task/\(tid)/stat"),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the comm: state is field 3, utime and stime 14 and 15, processor 39.
            guard fields.count > 36 else { continue }
            let busy = usage.isBusy(tid: "\(pid)/\(tid)", ticks: (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0))
            if allThreads || fields[0] == "R", let cpu = Int(fields[36]), let node = nodes.nodeOfCPU[cpu] {
                threads[node, default: 0] += 1
            }
            guard busy else { continue }
            if let status = ProcFile.text("/proc/\(pid)/task/\(tid)/status"),
               let allowed = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
               let pinned = nodes.singleNode(ofList: String(allowed.dropFirst("Cpus_allowed_list:".count))) {
                busyPinned[pinned, default: 0] += 1
            }
        }
        let totalPages = pages.values.reduce(0, +)
        let totalThreads = threads.values.reduce(0, +)
        guard totalPages > 0, totalThreads > 0 else { return nil }
        let value = pages.reduce(0.0) { $0 + $1.value / totalPages * (threads[$1.key] ?? 0) / totalThreads }
        return (value * 1000).rounded() / 1000
    }

    /// Each thread's CPU ticks at the previous line: a thread is busy when
    /// it used half a CPU or more since then. (A thread found runnable at
    /// one instant is no measure: a worker's idle main thread, waking for a
    /// moment beside two busy threads on a two-CPU node, read as overfull.)
    struct ThreadCPU {
        private var previous: [String: Int] = [:]
        private var seen: [String: Int] = [:]
        private var lastTime = 0.0, time = 0.0
        private let hz = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))

        /// A new line: this line's readings become the previous ones.
        mutating func next() {
            previous = seen
            seen = [:]
            lastTime = time
            time = Date().timeIntervalSinceReferenceDate
        }

        mutating func isBusy(tid: String, ticks: Int) -> Bool {
            seen[tid] = ticks
            guard let before = previous[tid], time > lastTime else { return false }
            return Double(ticks - before) / hz >= 0.5 * (time - lastTime)
        }
    }

    private func vmstat(_ key: String) -> Int {
        guard let text = ProcFile.text("/proc/vmstat") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key + " ") {
            return Int(line.split(separator: " ")[1]) ?? 0
        }
        return 0
    }
}

/// CPUs of each node, from sysfs.
struct NodeMap {
    var nodeOfCPU: [Int: Int] = [:]
    var cpuCount: [Int: Int] = [:]

    static func read() -> NodeMap {
        var map = NodeMap()
        let root = "/sys/devices/system/node"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix("node") {
            guard let node = Int(name.dropFirst(4)),
                  let list = ProcFile.text("\(root)/\(name)/cpulist") else { continue }
            let cpus = parse(list)
            for cpu in cpus { map.nodeOfCPU[cpu] = node }
            map.cpuCount[node] = cpus.count
        }
        return map
    }

    /// The node holding every CPU of a list, if there is one.
    func singleNode(ofList list: String) -> Int? {
        let nodes = Set(Self.parse(list).compactMap { nodeOfCPU[$0] })
        return nodes.count == 1 ? nodes.first : nil
    }

    static func parse(_ list: String) -> [Int] {
        list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2 { return Array(ends[0]...ends[1]) }
            return ends
        }
    }
}
