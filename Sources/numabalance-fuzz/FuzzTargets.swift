import Foundation
import NUMAModel
import NUMAPolicy
import NUMAProc
import NUMADaemon

/// Every reader of text numabalance does not write: the /proc and sysfs
/// parsers, the YAML config and policy loaders, the control and metrics
/// request readers. Each takes any bytes; a crash, a trap or a hang is a bug
/// (bad input is an error value, never a crash).
enum FuzzTarget: String, CaseIterable {
    case maps, numaMaps = "numa_maps", stat, status, sched, smapsRollup = "smaps_rollup", cpuStat = "cpu_stat"
    case zoneinfo, meminfo, nodeList = "node_list", distance, cgroup, cpuList = "cpu_list"
    case policy, config, controlLine = "control_line", httpRequest = "http_request"

    /// The seed files of each target, relative to the repository's root.
    var seeds: [String] {
        let proc = "Tests/NUMAProcTests/Fixtures/proc/123/"
        switch self {
        case .maps: return [proc + "maps"]
        case .numaMaps: return [proc + "numa_maps"]
        case .stat: return [proc + "stat"]
        case .status: return [proc + "status"]
        case .sched: return [proc + "sched"]
        case .smapsRollup: return [proc + "smaps_rollup"]
        case .cgroup: return [proc + "cgroup"]
        case .zoneinfo, .cpuStat, .meminfo, .nodeList, .distance, .cpuList: return []
        case .policy: return ["Policies/postgresql.yaml", "Policies/jvm.yaml", "Policies/kvm-qemu.yaml"]
        case .config: return ["Packaging/numabalance.yaml"]
        case .controlLine, .httpRequest: return []
        }
    }

    /// Built-in seeds where no fixture file stands alone.
    var inlineSeeds: [String] {
        switch self {
        case .cpuStat: return ["cpu  10 0 5 100 0 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\ncpu1 5 0 3 50 0 0 0 0 0 0\n"]
        case .meminfo: return ["Node 0 MemTotal:  1024 kB\nNode 0 MemFree:  512 kB\nNode 0 FilePages: 10 kB\n"]
        case .nodeList, .cpuList: return ["0-3,5,7-8\n", "0\n"]
        case .distance: return ["10 20\n"]
        case .zoneinfo: return ["Node 0, zone   Normal\n  pages free     1000\n        min      10\n        low      20\n        high     30\n"]
        case .controlLine: return ["status\n", "reload\n"]
        case .httpRequest: return ["GET /metrics HTTP/1.0\r\n\r\n"]
        default: return []
        }
    }

    /// One input through this target's reader. Errors are expected; only a
    /// crash is a finding.
    func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .maps: _ = try? Maps.parse(text)
        case .numaMaps: _ = try? NumaMaps.parse(text)
        case .stat: _ = try? Stat.parse(text)
        case .status: _ = try? Status.parse(text)
        case .sched: _ = try? Sched.parse(text)
        case .smapsRollup: _ = try? SmapsRollupParser.parse(text)
        case .cpuStat: _ = try? ProcStat.parseCPUs(text)
        case .zoneinfo: _ = try? ZoneInfo.parse(text)
        case .meminfo: _ = try? NodeFiles.parseMeminfo(text)
        case .nodeList: _ = try? NodeFiles.parseNodeList(text)
        case .distance: _ = try? NodeFiles.parseDistance(text)
        case .cgroup: _ = try? Cgroup.parseMembership(text)
        case .cpuList: _ = try? CPUSet(listFormat: text)
        case .policy: _ = try? PolicyLoader.load(text: text, file: "fuzz.yaml")
        case .config: _ = try? DaemonConfig.parse(text: text, file: "fuzz.yaml")
        case .controlLine: _ = ControlLine.request(in: Array(bytes))
        case .httpRequest: _ = HTTPRequestLine.isMetricsRequest(Array(bytes))
        }
    }
}
