import NUMAProc
import NUMASystem

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
        let current: Capabilities.Sets
        switch Capabilities.current() {
        case .success(let sets): current = sets
        case .failure(let error):
            throw PrivilegeDropError("cannot read this process's capabilities: \(Errno.text(error.errno))")
        }
        let keepValues = Set(keep.map(\.value))
        var kept: [Capability] = []
        for capability in keep where current.permitted.contains(capability.value) && !kept.contains(capability) {
            kept.append(capability)
        }
        let dropped = (0...lastCap).filter { current.permitted.contains($0) && !keepValues.contains($0) }.map(name)

        // Ambient first: the kernel clears it anyway when permitted shrinks,
        // but say so explicitly. EINVAL: a kernel before 4.3 has no ambient set.
        if case .failure(let error) = Capabilities.clearAmbient(), error.errno != Errno.invalid {
            throw PrivilegeDropError("cannot clear the ambient capability set: \(Errno.text(error.errno))")
        }

        // The bounding set next, while CAP_SETPCAP may still be effective.
        if current.effective.contains(Capabilities.setPCap) {
            for cap in 0...lastCap where !keepValues.contains(cap) && Capabilities.isBounded(cap) {
                if case .failure(let error) = Capabilities.dropFromBoundingSet(cap) {
                    throw PrivilegeDropError("cannot drop \(name(cap)) from the bounding set: " + Errno.text(error.errno))
                }
            }
        }

        // Then the three sets of this thread, in one cap_set_proc.
        let wanted: CapabilityState
        do { wanted = try CapabilityState(effectiveAndPermitted: kept.map(\.value)) } catch {
            throw PrivilegeDropError(error.description)
        }
        if case .failure(let error) = wanted.apply() {
            throw PrivilegeDropError("cannot set this process's capabilities to "
                + "[\(kept.map(\.rawValue).joined(separator: ", "))]: \(Errno.text(error.errno))")
        }

        if case .failure(let error) = Capabilities.setNoNewPrivileges() {
            throw PrivilegeDropError("cannot set no_new_privs: \(Errno.text(error.errno))")
        }
        try verifyAllThreads(allowed: Set(kept.map(\.value)))
        return (kept, dropped)
    }

    /// The kernel's highest capability number (/proc/sys/kernel/cap_last_cap):
    /// newer than the headers we were built with, possibly.
    static func lastCapability() -> Int32 {
        if let text = try? ProcFS().readSystem("sys/kernel/cap_last_cap"),
           let value = Int32(text.filter(\.isNumber)) {
            return value
        }
        return max(Capabilities.libcapCount - 1, 40)
    }

    /// "CAP_DAC_OVERRIDE" (libcap's names; unknown numbers stay numbers).
    static func name(_ cap: Int32) -> String {
        Capabilities.name(cap) ?? "capability \(cap)"
    }

    /// Every thread of this process holds at most `allowed` (permitted and
    /// effective) and has no_new_privs.
    private static func verifyAllThreads(allowed: Set<Int32>) throws(PrivilegeDropError) {
        let allowedMask = allowed.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
        let proc = ProcFS()
        let pid = Host.pid
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
                    let names = (0..<64).filter { extra & (1 << UInt64($0)) != 0 }.map { name(Int32($0)) }
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
