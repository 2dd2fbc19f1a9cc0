// What shapes-2x2.sh brings back, read by the tests' own parsing (not the
// code under test): thread lists, numa_maps lines by address, hugetlb
// pages, the journal's acts with their bytes, and the status keys these
// checks need.
import Foundation

extension ScriptRuns {
    /// The guest of ShapeLabTests (issue 14's process shapes).
    static let shapes = ScriptRuns(prefix: "shapes", timeoutSeconds: 600)
}

/// One thread as the script's `tasks` wrote it.
struct TaskLine: Equatable {
    var tid: String
    var state: String
    var cpu: Int
    var allowedList: String
    var allowedMask: String

    /// The CPUs of Cpus_allowed (hex words, most significant first, comma-separated).
    var allowedCPUs: Set<Int> {
        var cpus: Set<Int> = []
        for (index, word) in allowedMask.split(separator: ",").reversed().enumerated() {
            guard let bits = UInt64(word, radix: 16) else { continue }
            for bit in 0..<32 where bits & (1 << UInt64(bit)) != 0 { cpus.insert(index * 32 + bit) }
        }
        return cpus
    }
}

extension LabRun {
    /// "tid state cpu Cpus_allowed_list Cpus_allowed" lines of NAME-tasks.txt, by tid.
    func tasks(_ name: String) throws -> [String: TaskLine] {
        var result: [String: TaskLine] = [:]
        for line in try text("\(name)-tasks.txt").split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 5, let cpu = Int(parts[2]) else { throw LabFailure("\(name)-tasks.txt: \(line)") }
            result[parts[0]] = TaskLine(tid: parts[0], state: parts[1], cpu: cpu, allowedList: parts[3], allowedMask: parts[4])
        }
        guard !result.isEmpty else { throw LabFailure("\(name)-tasks.txt lists no thread") }
        return result
    }

    /// The `key=value` fields of the first ready line of a log. (Foundation's
    /// `contains("")` is false: no marker is no filter, not "contains nothing".)
    func readyFields(_ log: String, matching marker: String = "") throws -> [String: String] {
        guard let line = try text(log).split(separator: "\n").first(where: { $0.hasPrefix("ready ") && (marker.isEmpty || $0.contains(marker)) })
        else { throw LabFailure("\(log) has no ready line\(marker.isEmpty ? "" : " with \(marker)")") }
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            let pair = word.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        return fields
    }
}

/// Pages per node counted from numa_maps lines, one way or another.
enum NumaMapsCount {
    /// The start address of a numa_maps line.
    static func start(_ line: Substring) -> UInt64? { line.split(separator: " ").first.flatMap { UInt64($0, radix: 16) } }

    /// Base pages per node of the lines whose mapping starts in [base, base + bytes).
    static func within(_ numaMaps: String, base: UInt64, bytes: UInt64) -> [Int: UInt64] {
        var pages: [Int: UInt64] = [:]
        for line in numaMaps.split(separator: "\n") {
            guard let start = start(line), start >= base, start < base + bytes else { continue }
            for (node, count) in nodePageCounts(String(line)) { pages[node, default: 0] += count }
        }
        return pages
    }

    /// Base pages per node of the hugetlb lines (" huge ": counts are huge
    /// pages of kernelpagesize_kB, turned into 4 KiB pages here).
    static func hugetlb(_ numaMaps: String) -> [Int: UInt64] {
        var pages: [Int: UInt64] = [:]
        for line in numaMaps.split(separator: "\n") where line.contains(" huge ") {
            let sizeKB = line.split(separator: " ").first { $0.hasPrefix("kernelpagesize_kB=") }
                .flatMap { UInt64($0.dropFirst("kernelpagesize_kB=".count)) } ?? 4
            for (node, count) in nodePageCounts(String(line)) { pages[node, default: 0] += count * max(1, sizeKB / 4) }
        }
        return pages
    }

    /// Base pages per node of the SysV segments' lines.
    static func sysv(_ numaMaps: String) -> [Int: UInt64] {
        var pages: [Int: UInt64] = [:]
        for line in numaMaps.split(separator: "\n") where line.contains("SYSV") {
            for (node, count) in nodePageCounts(String(line)) { pages[node, default: 0] += count }
        }
        return pages
    }

    static func share(_ pages: [Int: UInt64], _ node: Int) -> Double {
        let total = pages.values.reduce(0, +)
        return total == 0 ? 0 : Double(pages[node] ?? 0) / Double(total)
    }
}

/// The journal's acts, with the bytes each was charged and the ranges it
/// named. The process an act is on is its `process` (or a swap's `a` and
/// `b`); a shared object's policy names the process it went through (`via`)
/// apart, since that act changes the object, not the process.
struct ShapeJournal {
    struct Act {
        var id: String
        var phase: String
        var kind: String
        var on: Set<Int>
        var via: Int?
        var bytes: UInt64
        var ranges: [Range<UInt64>]
        var status: String?
        /// Wall-clock seconds the line was written (an intent before its act, an outcome after).
        var time: Double
        /// Pages the act moved (outcome lines).
        var pagesMoved: Int
    }

    var acts: [Act]

    init(_ run: LabRun) throws {
        let text = try run.text("journal.jsonl")
        acts = try text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["id"] as? String, let phase = object["phase"] as? String
            else { throw LabFailure("journal.jsonl: not a journal line: \(line.prefix(300))") }
            guard let action = object["action"] as? [String: Any], let kind = action["kind"] as? String else { return nil }
            func pid(_ key: String) -> Int? { ((action[key] as? [String: Any])?["pid"] as? NSNumber)?.intValue }
            let ranges = (action["ranges"] as? [[String: Any]] ?? []).compactMap { range -> Range<UInt64>? in
                guard let start = (range["start"] as? NSNumber)?.uint64Value, let end = (range["end"] as? NSNumber)?.uint64Value,
                      end > start else { return nil }
                return start..<end
            }
            let outcome = object["outcome"] as? [String: Any]
            return Act(id: id, phase: phase, kind: kind, on: Set(["process", "a", "b"].compactMap(pid)), via: pid("via"),
                       bytes: (action["bytes"] as? NSNumber)?.uint64Value ?? 0, ranges: ranges,
                       status: outcome?["status"] as? String, time: (object["time"] as? NSNumber)?.doubleValue ?? 0,
                       pagesMoved: (outcome?["pagesMoved"] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// Intent lines (one per act, with its charge) on `pid`, of the given kinds (all when empty).
    func intents(on pid: Int, kinds: Set<String> = []) -> [Act] {
        acts.filter { $0.phase == "intent" && $0.on.contains(pid) && (kinds.isEmpty || kinds.contains($0.kind)) }
    }

    func outcomes(on pid: Int) -> [Act] { acts.filter { $0.phase == "outcome" && $0.on.contains(pid) } }
}

/// `numabalance status --json`, the keys these checks read.
struct ShapeStatus: Decodable {
    struct Process: Decodable {
        var pid: Int32
        var standing: String
        var policy: String
        var locality: Double?
        var rssBytes: UInt64?
        var group: String?
        var lastAction: String?
        var lastReason: String?
        var note: String?

        var summary: String {
            "pid \(pid) \(standing) policy \(policy) locality \(locality.map { "\($0)" } ?? "-") rss \(rssBytes.map { "\($0 >> 20) MiB" } ?? "-")"
                + " group \(group ?? "-"); last action: \(lastAction ?? "-"); why: \(lastReason ?? "-"); note: \(note ?? "-")"
        }
    }

    struct Totals: Decodable {
        var pagesMoved: Int
        var bytesMoved: UInt64
    }

    var actionInFlight: Bool
    var totals: Totals
    var processes: [Process]

    func process(_ pid: Int) -> Process? { processes.first { Int($0.pid) == pid } }
}

extension LabRun {
    func shapeStatus(_ name: String) throws -> ShapeStatus { try decode(ShapeStatus.self, from: "\(name)-status.json") }

    /// The daemon log's "deferred" lines naming `pid`.
    func deferrals(pid: Int) -> [Substring] {
        contents("standalone-daemon.log").split(separator: "\n").filter {
            $0.contains("deferred") && $0.split(separator: " ").contains("pid=\(pid)")
        }
    }
}
