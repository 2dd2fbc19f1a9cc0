/// What matching knows of a process: gathered by the caller from /proc
/// (comm, exe, cmdline, cgroup, status) and the last round's sample, so the
/// matcher itself is pure and tested without a kernel.
public struct ProcessFacts: Hashable, Sendable {
    public var pid: Int32
    /// /proc/pid/comm: at most 15 bytes.
    public var comm: String
    /// /proc/pid/exe's target; nil when unreadable (another user's process
    /// without CAP_SYS_PTRACE). A " (deleted)" suffix (binary replaced by an
    /// upgrade) is dropped, so the policy keeps matching until a restart.
    public var exe: String?
    /// /proc/pid/cmdline's arguments.
    public var cmdline: [String]
    /// The cgroup v2 path from /proc/pid/cgroup; nil on a v1-only system.
    public var cgroupPath: String?
    /// Real uid, and its name when the caller could resolve it.
    public var uid: UInt32
    public var userName: String?
    /// Resident set size (VmRSS); nil before the first read.
    public var rssBytes: UInt64?
    /// CPUs used over the last round (1.5 = one and a half CPUs); nil before
    /// a process's second round, so `minCPU` does not match it yet.
    public var cpuShare: Double?

    public init(pid: Int32, comm: String, exe: String? = nil, cmdline: [String] = [], cgroupPath: String? = nil,
                uid: UInt32 = 0, userName: String? = nil, rssBytes: UInt64? = nil, cpuShare: Double? = nil) {
        self.pid = pid
        self.comm = comm
        self.exe = exe.map { $0.hasSuffix(" (deleted)") ? String($0.dropLast(" (deleted)".count)) : $0 }
        self.cmdline = cmdline
        self.cgroupPath = cgroupPath
        self.uid = uid
        self.userName = userName
        self.rssBytes = rssBytes
        self.cpuShare = cpuShare
    }

    /// The command line as `cmdline` regexes see it: arguments joined by
    /// spaces, its first `commandLineLimit` bytes only.
    public var commandLine: String {
        let joined = cmdline.joined(separator: " ")
        guard joined.utf8.count > Self.commandLineLimit else { return joined }
        return String(decoding: joined.utf8.prefix(Self.commandLineLimit), as: UTF8.self)
    }

    /// Bytes of a command line that policies match against (and that the
    /// reader reads): any user can start a process with 2 MiB of arguments,
    /// and ICU's backtracking made `java.*-Xmx` take 12 s over 80 KB. What
    /// identifies a JVM, a database or its options comes first.
    public static let commandLineLimit = 4096

    /// The systemd units the process runs in, derived from its cgroup path.
    public var systemdUnits: SystemdUnits { SystemdUnits(cgroupPath: cgroupPath ?? "/") }
}

/// The systemd units of a cgroup path, as sd_pid_get_unit() and
/// sd_pid_get_user_unit() find them: the system unit is the first path
/// component that is a unit and not a slice (`/system.slice/postgresql.service/x`
/// → postgresql.service); below a user manager (`user@1000.service`), a login
/// session (`session-2.scope`) or a capsule, the next such component is the
/// user unit (`…/user@1000.service/app.slice/app-firefox-1234.scope`).
public struct SystemdUnits: Hashable, Sendable {
    public var unit: String?
    public var userUnit: String?

    public init(cgroupPath: String) {
        var path = Substring(cgroupPath)
        if path.hasSuffix(" (deleted)") { path = path.dropLast(" (deleted)".count) }
        // systemd escapes a name that could clash with a cgroup file by a leading "_".
        let components = path.split(separator: "/").map { $0.hasPrefix("_") ? String($0.dropFirst()) : String($0) }
        var rest = components[...]
        unit = Self.nextUnit(in: &rest)
        if let unit, Self.ownsUserUnits(unit) { userUnit = Self.nextUnit(in: &rest) }
    }

    /// Both units, the system one first.
    public var all: [String] { [unit, userUnit].compactMap { $0 } }

    /// Skips slices; stops at the first unit, or at a plain directory (a
    /// delegated subtree of a unit, which names no unit).
    private static func nextUnit(in components: inout ArraySlice<String>) -> String? {
        while let component = components.popFirst() {
            if component.hasSuffix(".slice") { continue }
            return isUnitName(component) ? component : nil
        }
        return nil
    }

    private static func ownsUserUnits(_ unit: String) -> Bool {
        (unit.hasPrefix("user@") && unit.hasSuffix(".service"))
            || (unit.hasPrefix("capsule@") && unit.hasSuffix(".service"))
            || (unit.hasPrefix("session-") && unit.hasSuffix(".scope"))
    }

    static let unitTypes = [".service", ".scope", ".socket", ".mount", ".swap", ".automount",
                            ".device", ".target", ".path", ".timer"]

    /// A name, a type suffix, and for a template instance a non-empty instance.
    static func isUnitName(_ name: String) -> Bool {
        guard let type = unitTypes.first(where: { name.hasSuffix($0) }) else { return false }
        let stem = name.dropLast(type.count)
        guard !stem.isEmpty, !stem.hasPrefix("@") else { return false }
        if let at = stem.firstIndex(of: "@") { return stem.index(after: at) != stem.endIndex }
        return true
    }
}
