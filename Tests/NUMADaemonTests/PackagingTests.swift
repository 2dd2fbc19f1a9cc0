import Foundation
import Glibc
import NUMAPolicy
import Testing

/// Packaging/: the default config file and the systemd unit.
@Suite struct PackagingTests {
    static let packaging = SystemTestFiles.root + "/Packaging"

    @Test func defaultConfigFileIsTheDefaults() throws {
        let path = Self.packaging + "/numabalance.yaml"
        let loaded = try DaemonConfig.load(path: path)
        #expect(loaded.file == path)
        #expect(loaded.config == DaemonConfig())
    }

    /// Every key `config check` prints is written in the file (metrics.listen commented out).
    @Test func defaultConfigFileNamesEveryKey() throws {
        let text = try #require(SystemTestFiles.text(Self.packaging + "/numabalance.yaml"))
        let written = Set(text.split(separator: "\n").compactMap(Self.key))
        let keys = Set(DaemonConfig().yaml.split(separator: "\n").compactMap(Self.key))
        #expect(keys.count >= 20)
        #expect(keys.subtracting(written).isEmpty, "missing in Packaging/numabalance.yaml: \(keys.subtracting(written).sorted())")
    }

    /// "  min: 1s" → "min"; "# metrics:" → "metrics"; prose comments → nil.
    static func key(_ line: Substring) -> String? {
        var body = line.drop(while: { $0 == " " })
        if body.hasPrefix("# ") { body = body.dropFirst(2).drop(while: { $0 == " " }) }
        guard let colon = body.firstIndex(of: ":") else { return nil }
        let name = body[..<colon]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) else { return nil }
        return String(name)
    }

    static let systemdAnalyze: String? = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { (path: String) in
        access(path, X_OK) == 0
    }

    /// Skipped (and said) only where systemd-analyze is missing and could not
    /// be installed (not root); as root or in CI its absence is a failure.
    @Test(.enabled("systemd-analyze is missing and installing it needs root (Packaging/dev-deps)") {
        systemdAnalyze != nil || geteuid() == 0 || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
    })
    func systemdUnitVerifies() throws {
        let analyze = try #require(Self.systemdAnalyze,
                                   "systemd-analyze is missing: run Packaging/dev-deps (installs the systemd package)")
        let unit = try #require(SystemTestFiles.text(Self.packaging + "/numabalance.service"))
        #expect(unit.contains("ExecStart=/usr/sbin/numabalance run\n"))
        #expect(unit.contains("ExecStopPost=+/usr/sbin/numabalance restore --kernel-balancing\n"))
        // verify checks that every Exec*= names an executable: use the built one, else /bin/true.
        let built = SystemTestFiles.builtBinary("numabalance") ?? "/bin/true"
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let copy = folder + "/numabalance.service"
        try unit.replacingOccurrences(of: "=/usr/sbin/numabalance ", with: "=\(built) ")
            .replacingOccurrences(of: "=+/usr/sbin/numabalance ", with: "=+\(built) ")
            .write(toFile: copy, atomically: false, encoding: .utf8)

        let (status, text) = try SystemTestFiles.run(analyze, ["verify", "--man=no", copy])
        // Other units of this host may draw warnings; ours must draw none
        // (unknown keys and bad values are only warnings, exit status 0).
        let ours = text.split(separator: "\n").filter { $0.contains("numabalance.service") }
        #expect(status == 0, "systemd-analyze verify: \(text)")
        #expect(ours.isEmpty, "systemd-analyze verify on the unit: \(ours.joined(separator: "\n"))")
    }

    /// The unit's hardening must leave what the daemon needs (DESIGN.md "Least privilege").
    @Test func systemdUnitKeepsWhatTheDaemonNeeds() throws {
        let unit = try #require(SystemTestFiles.text(Self.packaging + "/numabalance.service"))
        let settings = unit.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }
        func value(_ key: String) -> String? {
            settings.last { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        #expect(value("Type") == "notify")
        #expect(value("NoNewPrivileges") == "yes")
        #expect(value("CapabilityBoundingSet")?.split(separator: " ").sorted()
            == ["CAP_CHECKPOINT_RESTORE", "CAP_DAC_READ_SEARCH", "CAP_NET_ADMIN", "CAP_SYS_NICE", "CAP_SYS_PTRACE"])
        for forbidden in ["ProtectProc", "ProcSubset", "PrivatePIDs", "PrivateNetwork"] {
            #expect(value(forbidden) == nil, "\(forbidden)= would break the daemon")
        }
        // The sysctl is written outside the sandbox, before and after the daemon (issue 15, point 8).
        #expect(value("ProtectKernelTunables") == "yes")
        #expect(!unit.contains("ReadWritePaths=-/proc/sys"))
        #expect(value("ExecStartPre") == "+/usr/sbin/numabalance prepare --kernel-balancing")
        #expect(value("ExecStopPost") == "+/usr/sbin/numabalance restore --kernel-balancing")
        #expect(value("SystemCallFilter")?.hasPrefix("~") == true, "a deny-list, never an allow-list")
        #expect(value("SystemCallErrorNumber") == "EPERM")
    }

    /// The system calls numabalance makes: its actuator and sampler (the
    /// NUMA calls, affinity, map_files and mincore/madvise), its daemon
    /// (capabilities, pidfd, sockets, locks, eventfd) and the runtime under it.
    static let callsMade = [
        "move_pages", "migrate_pages", "mbind", "set_mempolicy", "get_mempolicy", "sched_setaffinity",
        "sched_getaffinity", "capset", "capget", "prctl", "pidfd_open", "poll", "ppoll", "mincore", "madvise",
        "mmap", "munmap", "mprotect", "flock", "accept", "accept4", "socket", "bind", "listen", "connect", "sendto",
        "recvfrom", "setsockopt", "shutdown", "read", "write", "pread64", "pwrite64", "openat", "fstat",
        "newfstatat", "statx", "close", "rename", "renameat", "unlink", "unlinkat", "mkdir", "mkdirat", "fsync",
        "fchmod", "chmod", "futex", "clone", "clone3", "getdents64", "lseek", "ftruncate", "eventfd2",
        "clock_nanosleep", "nanosleep", "clock_gettime", "getpid", "gettid", "getuid", "geteuid", "rt_sigaction",
        "rt_sigprocmask", "sigaltstack", "kill", "tgkill", "exit", "exit_group", "set_robust_list", "rseq",
        "getrandom", "sched_yield", "fcntl", "ioctl", "uname", "sysinfo", "getrlimit", "prlimit64",
    ]

    @Test(.enabled("systemd-analyze is missing and installing it needs root (Packaging/dev-deps)") {
        systemdAnalyze != nil || geteuid() == 0 || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
    })
    func systemCallFilterDeniesNothingTheDaemonCalls() throws {
        let analyze = try #require(Self.systemdAnalyze, "systemd-analyze is missing: run Packaging/dev-deps")
        let unit = try #require(SystemTestFiles.text(Self.packaging + "/numabalance.service"))
        let filter = try #require(unit.split(separator: "\n").last { $0.hasPrefix("SystemCallFilter=~") })
        let groups = filter.dropFirst("SystemCallFilter=~".count).split(separator: " ").map(String.init)
        #expect(groups.count >= 8, "\(groups)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        process.arguments = ["syscall-filter"] + groups
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let denied = Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("@") })
        #expect(denied.contains("ptrace") && denied.contains("mount"), "the groups were not expanded: \(denied.count) calls")
        #expect(denied.isDisjoint(with: Self.callsMade), "denied: \(denied.intersection(Self.callsMade).sorted())")
    }
}
