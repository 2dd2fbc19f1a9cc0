import CNUMA
import Glibc
import NUMAProc

/// Why dropping capabilities failed; the daemon must not run on with more
/// than it asked for.
public struct PrivilegeDropError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Privileges {
    /// What `numabalance run` keeps (DESIGN.md, "Least privilege"):
    /// CAP_SYS_PTRACE for the ptrace read check of move_pages/migrate_pages
    /// and /proc files of other users' or non-dumpable processes;
    /// CAP_SYS_NICE for MPOL_MF_MOVE_ALL, nodes outside a target's cpuset and
    /// other users' affinity; CAP_CHECKPOINT_RESTORE for /proc/PID/map_files
    /// (every shared object, SysV segments too, is reached there), with
    /// CAP_DAC_READ_SEARCH to search another user's (the folder is mode 0500,
    /// owned by the process's user: PostgreSQL's buffers, say); and CAP_SYS_ADMIN only
    /// to write kernel.numa_balancing (`kernelBalancing: disable`).
    /// Not CAP_DAC_OVERRIDE: the daemon runs as root and owns its folders, and
    /// reads nobody else's files (DAC_READ_SEARCH lets it read any, write none).
    public static func daemonNeeds(disableKernelBalancing: Bool) -> [Capability] {
        var needs: [Capability] = [.sysPtrace, .sysNice, .checkpointRestore, .dacReadSearch]
        if disableKernelBalancing { needs.append(.sysAdmin) }
        return needs
    }

    /// Keeps only `keep` (those of them in the permitted set now) in the
    /// effective and permitted sets, clears the inheritable and ambient
    /// sets, drops every other capability from the bounding set, and sets
    /// no_new_privs. Returns what was kept and the names of the permitted
    /// capabilities given up.
    ///
    /// - Important: Call it ONCE, EARLY, FROM THE MAIN THREAD, BEFORE ANY
    ///   OTHER THREAD EXISTS (before logging, Dispatch, Swift concurrency's
    ///   pool, ServiceLifecycle, samplers). Linux capabilities, the ambient
    ///   and bounding sets and no_new_privs belong to a thread, and libcap's
    ///   cap_set_proc changes only the calling thread (changing all of them
    ///   would need libpsx, which we do not link). Threads created later
    ///   inherit the reduced sets. As a guard it reads every thread's
    ///   /proc/self/task/TID/status afterwards and throws, naming the
    ///   thread, if any still holds more than `keep` or lacks no_new_privs.
    ///
    /// The bounding set can only shrink with CAP_SETPCAP; without it (a
    /// systemd unit whose CapabilityBoundingSet= already lists only what is
    /// needed) the bounding set is left as it is, which no_new_privs makes
    /// harmless to us as the daemon never executes a program.
    ///
    /// No unit test can drop the test process's own capabilities safely;
    /// the lab test checks CapEff/CapBnd/NoNewPrivs of the running daemon.
    public static func keepOnly(_ keep: [Capability]) throws(PrivilegeDropError) -> (kept: [Capability], dropped: [String]) {
        let lastCap = lastCapability()
        guard let current = cap_get_proc() else {
            throw PrivilegeDropError("cannot read this process's capabilities: \(String(cString: strerror(errno)))")
        }
        defer { cap_free(UnsafeMutableRawPointer(current)) }
        func isSet(_ cap: cap_value_t, _ flag: cap_flag_t) -> Bool {
            var value = CAP_CLEAR
            return cap_get_flag(current, cap, flag, &value) == 0 && value == CAP_SET
        }
        let keepValues = Set(keep.map(\.value))
        var kept: [Capability] = []
        for capability in keep where isSet(capability.value, CAP_PERMITTED) && !kept.contains(capability) {
            kept.append(capability)
        }
        let dropped = (0...lastCap).filter { isSet($0, CAP_PERMITTED) && !keepValues.contains($0) }.map(name)

        // Ambient first: the kernel clears it anyway when permitted shrinks,
        // but say so explicitly. EINVAL: a kernel before 4.3 has no ambient set.
        if cap_prctl(prCapAmbient, prCapAmbientClearAll, 0, 0, 0, 0) != 0, errno != EINVAL {
            throw PrivilegeDropError("cannot clear the ambient capability set: \(String(cString: strerror(errno)))")
        }

        // The bounding set next, while CAP_SETPCAP may still be effective.
        if isSet(CAP_SETPCAP, CAP_EFFECTIVE) {
            for cap in 0...lastCap where !keepValues.contains(cap) && cap_get_bound(cap) == 1 {
                guard cap_drop_bound(cap) == 0 else {
                    throw PrivilegeDropError("cannot drop \(name(cap)) from the bounding set: "
                        + String(cString: strerror(errno)))
                }
            }
        }

        // Then the three sets of this thread, in one cap_set_proc.
        guard let wanted = cap_init() else {
            throw PrivilegeDropError("cap_init: \(String(cString: strerror(errno)))")
        }
        defer { cap_free(UnsafeMutableRawPointer(wanted)) }
        var values = kept.map(\.value)
        if !values.isEmpty {
            for flag in [CAP_EFFECTIVE, CAP_PERMITTED] {
                guard cap_set_flag(wanted, flag, Int32(values.count), &values, CAP_SET) == 0 else {
                    throw PrivilegeDropError("cap_set_flag: \(String(cString: strerror(errno)))")
                }
            }
        }
        guard cap_set_proc(wanted) == 0 else {
            throw PrivilegeDropError("cannot set this process's capabilities to "
                + "[\(kept.map(\.rawValue).joined(separator: ", "))]: \(String(cString: strerror(errno)))")
        }

        guard cap_prctl(prSetNoNewPrivs, 1, 0, 0, 0, 0) == 0 else {
            throw PrivilegeDropError("cannot set no_new_privs: \(String(cString: strerror(errno)))")
        }
        try verifyAllThreads(allowed: Set(kept.map(\.value)))
        return (kept, dropped)
    }

    // prctl(2) numbers (linux/prctl.h, not in Swift's Glibc module); through
    // libcap's non-variadic cap_prctl since Swift cannot call prctl itself.
    private static let prSetNoNewPrivs = 38
    private static let prCapAmbient = 47
    private static let prCapAmbientClearAll = 4

    /// The kernel's highest capability number (/proc/sys/kernel/cap_last_cap):
    /// newer than the headers we were built with, possibly.
    static func lastCapability() -> cap_value_t {
        if let text = try? ProcFS().readSystem("sys/kernel/cap_last_cap"),
           let value = cap_value_t(text.filter(\.isNumber)) {
            return value
        }
        return max(cap_max_bits() - 1, 40)
    }

    /// "CAP_DAC_OVERRIDE" (libcap's names are lower case; unknown numbers stay numbers).
    static func name(_ cap: cap_value_t) -> String {
        guard let text = cap_to_name(cap) else { return "capability \(cap)" }
        defer { cap_free(UnsafeMutableRawPointer(text)) }
        return String(cString: text).uppercased()
    }

    /// Every thread of this process holds at most `allowed` (permitted and
    /// effective) and has no_new_privs.
    private static func verifyAllThreads(allowed: Set<cap_value_t>) throws(PrivilegeDropError) {
        let allowedMask = allowed.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
        let proc = ProcFS()
        let pid = getpid()
        guard let threads = try? proc.threadIDs(pid) else { return }
        for tid in threads {
            // A thread that ended meanwhile holds nothing.
            guard let status = try? proc.read(pid, "task/\(tid)/status") else { continue }
            var fields: [Substring: Substring] = [:]
            for line in status.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon]] = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            }
            for key in ["CapPrm", "CapEff"] {
                guard let text = fields[Substring(key)], let mask = UInt64(text, radix: 16) else { continue }
                let extra = mask & ~allowedMask
                if extra != 0 {
                    let names = (0..<64).filter { extra & (1 << UInt64($0)) != 0 }.map { name(cap_value_t($0)) }
                    let shown = names.prefix(4).joined(separator: ", ") + (names.count > 4 ? " and \(names.count - 4) more" : "")
                    throw PrivilegeDropError("thread \(tid) still holds \(shown) (\(key)): "
                        + "capabilities belong to a thread, so Privileges.keepOnly must run before any other "
                        + "thread starts; call it first thing in main")
                }
            }
            if let flag = fields["NoNewPrivs"], flag != "1" {
                throw PrivilegeDropError("thread \(tid) lacks no_new_privs: Privileges.keepOnly must run before "
                    + "any other thread starts; call it first thing in main")
            }
        }
    }
}
