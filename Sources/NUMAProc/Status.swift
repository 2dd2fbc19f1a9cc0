import NUMAModel

/// What numabalance needs of /proc/pid/status.
public struct ProcessStatus: Hashable, Sendable {
    public var name: String
    /// The state letter: R, S, D, T, t, X, Z, P, I.
    public var state: Character
    public var tgid: Int32
    public var pid: Int32
    public var ppid: Int32
    /// Real, effective, saved, filesystem.
    public var uids: [UInt32]
    public var gids: [UInt32]
    public var threads: Int
    /// Nil for kernel threads and zombies (no VmRSS line).
    public var vmRSSBytes: UInt64?
    /// Cpus_allowed_list: the affinity, including any numabalance itself set.
    public var cpusAllowed: CPUSet
    /// Mems_allowed_list; empty when the kernel has no cpusets (no such line).
    public var memsAllowed: [NodeID]
    public var isKernelThread: Bool

    public init(name: String, state: Character, tgid: Int32, pid: Int32, ppid: Int32,
                uids: [UInt32] = [0, 0, 0, 0], gids: [UInt32] = [0, 0, 0, 0], threads: Int = 1,
                vmRSSBytes: UInt64? = nil, cpusAllowed: CPUSet = CPUSet(),
                memsAllowed: [NodeID] = [], isKernelThread: Bool = false) {
        self.name = name
        self.state = state
        self.tgid = tgid
        self.pid = pid
        self.ppid = ppid
        self.uids = uids
        self.gids = gids
        self.threads = threads
        self.vmRSSBytes = vmRSSBytes
        self.cpusAllowed = cpusAllowed
        self.memsAllowed = memsAllowed
        self.isKernelThread = isKernelThread
    }
}

public enum Status {
    /// Parses /proc/pid/status ("Key:\tvalue" lines). Name, State, Tgid, Pid,
    /// PPid, Uid, Gid, Threads and Cpus_allowed_list must be there (a status
    /// cut before them is truncated); VmRSS is absent for kernel threads.
    public static func parse(_ text: String, source: String = "status") throws(ProcParseError) -> ProcessStatus {
        var values: [String: (ArraySlice<UInt8>, ProcLine)] = [:]
        for line in ProcText.lines(text, source: source) where !line.isBlank {
            guard let (key, value) = line.split(at: UInt8(ascii: ":")), !key.isEmpty,
                  key.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
            else { throw line.fail("expected \"Key: value\", got \(ProcText.quoted(line.bytes))") }
            values[ProcText.string(key)] = (value, line)
        }
        guard !values.isEmpty else { throw ProcParseError(source: source, line: nil, reason: "empty") }

        func field(_ key: String) throws(ProcParseError) -> (ArraySlice<UInt8>, ProcLine) {
            guard let entry = values[key] else {
                throw ProcParseError(source: source, line: nil, reason: "no \(key) line (truncated?)")
            }
            return entry
        }
        func id(_ key: String) throws(ProcParseError) -> Int32 {
            let (value, line) = try field(key)
            guard let number = ProcText.signed(ProcText.trimmed(value)), let id = Int32(exactly: number), id >= 0
            else { throw line.fail("bad \(key) \(ProcText.quoted(value))") }
            return id
        }
        func ids(_ key: String) throws(ProcParseError) -> [UInt32] {
            let (value, line) = try field(key)
            var result: [UInt32] = []
            for part in ProcText.fields(value) {
                guard let number = ProcText.decimal(part), let id = UInt32(exactly: number) else {
                    throw line.fail("bad \(key) \(ProcText.quoted(value))")
                }
                result.append(id)
            }
            guard result.count == 4 else { throw line.fail("\(key) needs 4 ids: \(ProcText.quoted(value))") }
            return result
        }

        let (nameValue, _) = try field("Name")
        let (stateValue, stateLine) = try field("State")
        guard let stateByte = ProcText.trimmed(stateValue).first,
              (0x41...0x5a).contains(stateByte) || (0x61...0x7a).contains(stateByte)
        else { throw stateLine.fail("bad State \(ProcText.quoted(stateValue))") }

        let (threadsValue, threadsLine) = try field("Threads")
        guard let threads = ProcText.decimal(ProcText.trimmed(threadsValue)), threads < 1 << 31 else {
            throw threadsLine.fail("bad Threads \(ProcText.quoted(threadsValue))")
        }

        var rss: UInt64?
        if let (value, line) = values["VmRSS"] {
            guard let bytes = ProcText.kilobytes(value) else { throw line.fail("bad VmRSS \(ProcText.quoted(value))") }
            rss = bytes
        }

        let (cpuValue, cpuLine) = try field("Cpus_allowed_list")
        let cpus: CPUSet
        do { cpus = try CPUSet(listFormat: ProcText.string(cpuValue)) } catch {
            throw cpuLine.fail("bad Cpus_allowed_list \(ProcText.quoted(cpuValue))")
        }

        // Mems_allowed exists iff the kernel has cpusets; then its list must follow.
        var mems: [NodeID] = []
        if values["Mems_allowed"] != nil || values["Mems_allowed_list"] != nil {
            let (memValue, memLine) = try field("Mems_allowed_list")
            do { mems = try parseIDList(ProcText.string(memValue)).sorted().map { NodeID($0) } } catch {
                throw memLine.fail("bad Mems_allowed_list \(ProcText.quoted(memValue))")
            }
        }

        var status = ProcessStatus(
            name: unescapeName(nameValue), state: Character(Unicode.Scalar(stateByte)),
            tgid: try id("Tgid"), pid: try id("Pid"), ppid: try id("PPid"),
            uids: try ids("Uid"), gids: try ids("Gid"), threads: Int(threads),
            vmRSSBytes: rss, cpusAllowed: cpus, memsAllowed: mems)

        if let (value, line) = values["Kthread"] {
            guard let flag = ProcText.decimal(ProcText.trimmed(value)), flag <= 1 else {
                throw line.fail("bad Kthread \(ProcText.quoted(value))")
            }
            status.isKernelThread = flag == 1
        } else {
            // Before Linux 6.x there is no Kthread line: kthreadd (pid 2) and its
            // children are kernel threads; so is a live task without any mm.
            let gone = status.state == "Z" || status.state == "X"
            status.isKernelThread = status.pid == 2 || status.ppid == 2
                || (rss == nil && values["VmSize"] == nil && !gone)
        }
        return status
    }

    /// The Name value, from after "Name:\t" to the end of the line (a comm may
    /// end in spaces), with the kernel's escapes (\n, \t, \\) undone.
    static func unescapeName(_ value: ArraySlice<UInt8>) -> String {
        var bytes = value
        if bytes.first == ProcText.tab { bytes = bytes.dropFirst() }
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            guard byte == UInt8(ascii: "\\"), index < bytes.endIndex else { out.append(byte); continue }
            let next = bytes[index]
            let map: [UInt8: UInt8] = [
                UInt8(ascii: "n"): 10, UInt8(ascii: "t"): 9, UInt8(ascii: "r"): 13, UInt8(ascii: "f"): 12,
                UInt8(ascii: "v"): 11, UInt8(ascii: "a"): 7, UInt8(ascii: "e"): 27,
                UInt8(ascii: "\\"): 92, UInt8(ascii: "\""): 34,
            ]
            if let plain = map[next] { out.append(plain); index += 1 } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
