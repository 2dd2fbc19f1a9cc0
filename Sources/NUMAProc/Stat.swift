import NUMASystem

/// What numabalance needs of /proc/pid/stat or /proc/pid/task/tid/stat
/// (proc(5) numbers the fields from 1; comm is field 2).
public struct TaskStat: Hashable, Sendable {
    public var pid: Int32
    /// Unescaped and possibly holding spaces and parentheses.
    public var comm: String
    public var state: Character
    public var ppid: Int32
    /// Field 9, the task's PF_* flags.
    public var flags: UInt64
    /// Fields 14 and 15, in clock ticks (USER_HZ: Host.clockTicksPerSecond).
    public var utimeTicks: UInt64
    public var stimeTicks: UInt64
    /// Field 20.
    public var numThreads: Int
    /// Field 22: clock ticks after boot; with the pid, the process's identity.
    public var startTimeTicks: UInt64
    /// Field 24, in pages; signed as the kernel prints it.
    public var rssPages: Int64
    /// Field 24 in bytes (a negative count, never seen in practice, reads as 0).
    public var rssBytes: UInt64 { UInt64(max(rssPages, 0)) * Self.pageSize }
    /// The page size field 24 counts in.
    public static let pageSize = UInt64(Host.pageSize)
    /// Field 39, the CPU the task last ran on.
    public var processor: Int

    public init(pid: Int32, comm: String, state: Character, ppid: Int32, flags: UInt64 = 0,
                utimeTicks: UInt64 = 0, stimeTicks: UInt64 = 0, numThreads: Int = 1,
                startTimeTicks: UInt64 = 0, rssPages: Int64 = 0, processor: Int = 0) {
        self.pid = pid
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.flags = flags
        self.utimeTicks = utimeTicks
        self.stimeTicks = stimeTicks
        self.numThreads = numThreads
        self.startTimeTicks = startTimeTicks
        self.rssPages = rssPages
        self.processor = processor
    }

    /// PF_KTHREAD, the kernel's own mark of a kernel thread.
    public static let kernelThreadFlag: UInt64 = 0x0020_0000

    public var isKernelThread: Bool { flags & Self.kernelThreadFlag != 0 }
    /// PF_EXITING, set as the process starts to exit (before its memory goes
    /// and long before it is a zombie).
    public static let exitingFlag: UInt64 = 0x0000_0004
    public var isExiting: Bool { flags & Self.exitingFlag != 0 }
    public var cpuTicks: UInt64 { utimeTicks &+ stimeTicks }
}

public enum Stat {
    /// Fields after comm up to `processor` (field 39): 3…39.
    static let fieldsNeeded = 39 - 2

    /// Parses one stat line. comm is printed unescaped and may hold spaces,
    /// parentheses and even newlines, so it runs from the first "(" to the
    /// LAST ")": nothing after comm can contain a ")".
    public static func parse(_ text: String, source: String = "stat") throws(ProcParseError) -> TaskStat {
        let bytes = Array(text.utf8)
        func fail(_ reason: String) -> ProcParseError {
            ProcParseError(source: source, line: 1, reason: reason)
        }
        guard !bytes.isEmpty else { throw ProcParseError(source: source, line: nil, reason: "empty") }
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close
        else { throw fail("no \"(comm)\" in \(ProcText.quoted(bytes[...]))") }

        let pidBytes = ProcText.trimmed(bytes[..<open])
        guard let pidNumber = ProcText.decimal(pidBytes), let pid = Int32(exactly: pidNumber), pid > 0 else {
            throw fail("bad pid \(ProcText.quoted(pidBytes))")
        }
        let comm = ProcText.string(bytes[(open + 1)..<close])
        let rest = ProcText.fields(bytes[(close + 1)...])
        guard rest.count >= fieldsNeeded else {
            throw fail("\(rest.count + 2) fields, need at least 39 (truncated?)")
        }
        // Field n of proc(5) is rest[n - 3].
        func field(_ n: Int) -> ArraySlice<UInt8> { rest[n - 3] }
        func unsigned(_ n: Int, _ name: String) throws(ProcParseError) -> UInt64 {
            guard let value = ProcText.decimal(field(n)) else {
                throw fail("bad \(name) (field \(n)) \(ProcText.quoted(field(n)))")
            }
            return value
        }
        func signed(_ n: Int, _ name: String) throws(ProcParseError) -> Int64 {
            guard let value = ProcText.signed(field(n)) else {
                throw fail("bad \(name) (field \(n)) \(ProcText.quoted(field(n)))")
            }
            return value
        }

        let stateField = field(3)
        guard stateField.count == 1, let stateByte = stateField.first,
              (0x41...0x5a).contains(stateByte) || (0x61...0x7a).contains(stateByte)
        else { throw fail("bad state \(ProcText.quoted(stateField))") }
        guard let ppid = Int32(exactly: try signed(4, "ppid")), ppid >= 0 else {
            throw fail("bad ppid \(ProcText.quoted(field(4)))")
        }
        let threads = try signed(20, "num_threads")
        guard threads >= 0, threads < 1 << 31 else { throw fail("absurd num_threads \(threads)") }
        let processor = try signed(39, "processor")
        guard processor >= 0, processor < 1 << 24 else { throw fail("absurd processor \(processor)") }

        return TaskStat(
            pid: pid, comm: comm, state: Character(Unicode.Scalar(stateByte)), ppid: ppid,
            flags: try unsigned(9, "flags"),
            utimeTicks: try unsigned(14, "utime"), stimeTicks: try unsigned(15, "stime"),
            numThreads: Int(threads), startTimeTicks: try unsigned(22, "starttime"),
            rssPages: try signed(24, "rss"), processor: Int(processor))
    }
}
