import NUMAModel
import NUMAProc
import NUMASystem

/// What this process may do to others, read with libcap; used to turn an
/// EPERM into a sentence that names the missing capability.
public struct Privileges: Sendable {
    public var effective: Set<Int32>
    public var uid: UInt32

    public init(effective: Set<Int32>, uid: UInt32) {
        self.effective = effective
        self.uid = uid
    }

    /// A set of capabilities by name, for tests and for what-if checks.
    public init(capabilities: [Capability], uid: UInt32) {
        self.init(effective: Set(capabilities.map(\.value)), uid: uid)
    }

    /// This thread's effective set, of the capabilities numabalance names
    /// (empty when libcap cannot read it), and the real uid.
    public static func current() -> Privileges {
        let held = (try? Capabilities.current().get())?.effective ?? []
        return Privileges(effective: held.intersection(Capability.allCases.map(\.value)), uid: Host.uid)
    }

    public func has(_ capability: Capability) -> Bool { effective.contains(capability.value) }
}

/// The capabilities numabalance may need (DESIGN.md, "Least privilege").
public enum Capability: String, CaseIterable, Sendable {
    case sysPtrace = "CAP_SYS_PTRACE"
    case sysNice = "CAP_SYS_NICE"
    case checkpointRestore = "CAP_CHECKPOINT_RESTORE"
    case dacReadSearch = "CAP_DAC_READ_SEARCH"
    case sysAdmin = "CAP_SYS_ADMIN"
    /// At start only, to subscribe to the kernel's process events.
    case netAdmin = "CAP_NET_ADMIN"

    /// Its number (linux/capability.h).
    public var value: Int32 {
        switch self {
        case .sysPtrace: Capabilities.sysPtrace
        case .sysNice: Capabilities.sysNice
        case .checkpointRestore: 40  // CAP_CHECKPOINT_RESTORE, Linux 5.9; older headers lack it.
        case .sysAdmin: Capabilities.sysAdmin
        case .dacReadSearch: Capabilities.dacReadSearch
        case .netAdmin: Capabilities.netAdmin
        }
    }
}

extension Privileges {
    /// Why reading another process's page placement (move_pages, /proc/pid/maps:
    /// the kernel's PTRACE_MODE_READ check) was refused, in words.
    public func explainReadDenied(pid: Int32, status: ProcessStatus?) -> String {
        let who = status.map { "pid \(pid) (\($0.name), uid \($0.uids.first ?? 0))" } ?? "pid \(pid)"
        let owner = status?.uids.first
        if has(.sysPtrace) {
            return "not permitted to read the memory placement of \(who) although CAP_SYS_PTRACE is "
                + "in the effective set: a security module (Yama, SELinux, AppArmor) or a "
                + "user namespace refuses it"
        }
        if let owner, owner == uid {
            return "not permitted to read the memory placement of \(who): it is your own process "
                + "but not dumpable (setuid, or PR_SET_DUMPABLE 0); that needs CAP_SYS_PTRACE, "
                + "which is not in this process's effective set"
        }
        return "not permitted to read the memory placement of \(who): another user's process "
            + "needs CAP_SYS_PTRACE (the kernel's ptrace read check), which is not in this "
            + "process's effective set (you are uid \(uid)); run as root or as its owner"
    }
}

/// The owner of a process an action touches, and its cpuset's memory nodes.
public struct TargetOwner: Hashable, Sendable {
    public var pid: Int32
    public var comm: String
    /// Real, effective, saved, filesystem.
    public var uids: [UInt32]
    /// Mems_allowed; empty when unknown.
    public var memsAllowed: [NodeID]

    public init(pid: Int32, comm: String, uids: [UInt32], memsAllowed: [NodeID] = []) {
        self.pid = pid
        self.comm = comm
        self.uids = uids
        self.memsAllowed = memsAllowed
    }
}

/// A capability an action needs and this process lacks (any one of
/// `capabilities` would do), with the kernel's reason.
public struct CapabilityShortfall: Error, Hashable, Sendable, CustomStringConvertible {
    public var capabilities: [Capability]
    public var why: String
    public var description: String

    public init(capabilities: [Capability], why: String, description: String) {
        self.capabilities = capabilities
        self.why = why
        self.description = description
    }
}

extension Privileges {
    /// "cannot move the pages of pid 42 (postgres, uid 106): CAP_SYS_PTRACE is missing: …".
    public func explainActDenied(capability: [Capability], why: String) -> String {
        let names = capability.map(\.rawValue).joined(separator: " or ")
        return "\(names) is not in this process's effective set (uid \(uid)): \(why); "
            + "run as root, or grant it (e.g. AmbientCapabilities= in the systemd unit)"
    }

    /// What carrying out `action` needs that this process lacks (DESIGN.md,
    /// "Least privilege"): CAP_SYS_NICE for another user's affinity, for
    /// MPOL_MF_MOVE_ALL and for nodes outside the target's cpuset;
    /// CAP_SYS_PTRACE for moving another user's pages; CAP_CHECKPOINT_RESTORE
    /// or CAP_SYS_ADMIN for /proc/PID/map_files (every shared object), with CAP_DAC_READ_SEARCH when the process is
    /// another user's. Empty when nothing is missing.
    public func shortfalls(for action: Action, owners: [Int32: TargetOwner]) -> [CapabilityShortfall] {
        var result: [CapabilityShortfall] = []
        func need(_ caps: [Capability], _ why: String) {
            guard !caps.contains(where: has) else { return }
            result.append(CapabilityShortfall(capabilities: caps, why: why,
                                              description: explainActDenied(capability: caps, why: why)))
        }
        func who(_ pid: Int32) -> String {
            owners[pid].map { "pid \(pid) (\($0.comm), uid \($0.uids.first ?? 0))" } ?? "pid \(pid)"
        }
        func isOthers(_ pid: Int32) -> Bool {
            guard let owner = owners[pid] else { return false }
            return !owner.uids.prefix(3).allSatisfy { $0 == uid }
        }
        func affinity(_ pid: Int32) {
            if isOthers(pid) { need([.sysNice], "changing the CPU affinity of \(who(pid)), another user's process") }
        }
        func pages(_ pid: Int32, to nodes: [NodeID]) {
            if isOthers(pid) {
                need([.sysPtrace], "moving the pages of \(who(pid)), another user's process, passes the kernel's ptrace read check")
            }
            if let mems = owners[pid]?.memsAllowed, !mems.isEmpty, let outside = nodes.first(where: { !mems.contains($0) }) {
                need([.sysNice], "node \(outside) is outside the cpuset of \(who(pid)) (Mems_allowed \(mems.map(\.rawValue)))")
            }
        }
        switch action {
        case .setAffinity(let a): affinity(a.process.pid)
        case .swap(let s): affinity(s.a.pid); affinity(s.b.pid)
        case .movePages(let a): pages(a.process.pid, to: [a.to])
        case .moveRanges(let a): pages(a.process.pid, to: [a.to])
        case .setObjectPolicy(let a):
            if a.moveExisting {
                need([.sysNice], "moving the pages of shared object \(a.objectKey) needs MPOL_MF_MOVE_ALL (pages several processes map)")
            }
            need([.checkpointRestore, .sysAdmin],
                 "opening /proc/\(a.via.pid)/map_files (the only way to map \(a.objectKey) from outside)")
            // map_files is a mode-0500 folder owned by the process's user:
            // searching another user's needs DAC_READ_SEARCH as well.
            if isOthers(a.via.pid) {
                need([.dacReadSearch],
                     "searching /proc/\(a.via.pid)/map_files of \(who(a.via.pid)), another user's (a mode-0500 folder)")
            }
        }
        return result
    }
}
