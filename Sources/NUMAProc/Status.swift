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
        let fields = Fields(values: values, source: source)
        let rss = try fields.kilobytes("VmRSS")
        var status = ProcessStatus(
            name: unescapeName(try fields.field("Name").0), state: try fields.state(),
            tgid: try fields.id("Tgid"), pid: try fields.id("Pid"), ppid: try fields.id("PPid"),
            uids: try fields.ids("Uid"), gids: try fields.ids("Gid"), threads: try fields.threads(),
            vmRSSBytes: rss, cpusAllowed: try fields.cpus(), memsAllowed: try fields.mems())
        if let flag = try fields.kernelThreadFlag() {
            status.isKernelThread = flag
        } else {
            // Before Linux 6.x there is no Kthread line: kthreadd (pid 2) and its
            // children are kernel threads; so is a live task without any mm.
            let gone = status.state == "Z" || status.state == "X"
            status.isKernelThread = status.pid == 2 || status.ppid == 2
                || (rss == nil && values["VmSize"] == nil && !gone)
        }
        return status
    }

    /// The lines of one status text by key, each value read and checked.
    struct Fields {
        let values: [String: (ArraySlice<UInt8>, ProcLine)]
        let source: String

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

        /// Real, effective, saved and filesystem ids.
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

        func state() throws(ProcParseError) -> Character {
            let (value, line) = try field("State")
            guard let byte = ProcText.trimmed(value).first,
                  (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
            else { throw line.fail("bad State \(ProcText.quoted(value))") }
            return Character(Unicode.Scalar(byte))
        }

        func threads() throws(ProcParseError) -> Int {
            let (value, line) = try field("Threads")
            guard let threads = ProcText.decimal(ProcText.trimmed(value)), threads < 1 << 31 else {
                throw line.fail("bad Threads \(ProcText.quoted(value))")
            }
            return Int(threads)
        }

        /// A "NNN kB" value in bytes; nil when the line is absent (VmRSS of a kernel thread).
        func kilobytes(_ key: String) throws(ProcParseError) -> UInt64? {
            guard let (value, line) = values[key] else { return nil }
            guard let bytes = ProcText.kilobytes(value) else { throw line.fail("bad \(key) \(ProcText.quoted(value))") }
            return bytes
        }

        func cpus() throws(ProcParseError) -> CPUSet {
            let (value, line) = try field("Cpus_allowed_list")
            do { return try CPUSet(listFormat: ProcText.string(value)) } catch {
                throw line.fail("bad Cpus_allowed_list \(ProcText.quoted(value))")
            }
        }

        /// Mems_allowed exists iff the kernel has cpusets; then its list must follow.
        func mems() throws(ProcParseError) -> [NodeID] {
            guard values["Mems_allowed"] != nil || values["Mems_allowed_list"] != nil else { return [] }
            let (value, line) = try field("Mems_allowed_list")
            do { return try parseIDList(ProcText.string(value)).sorted().map { NodeID($0) } } catch {
                throw line.fail("bad Mems_allowed_list \(ProcText.quoted(value))")
            }
        }

        /// The Kthread line (Linux 6.x); nil when the kernel has none.
        func kernelThreadFlag() throws(ProcParseError) -> Bool? {
            guard let (value, line) = values["Kthread"] else { return nil }
            guard let flag = ProcText.decimal(ProcText.trimmed(value)), flag <= 1 else {
                throw line.fail("bad Kthread \(ProcText.quoted(value))")
            }
            return flag == 1
        }
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
