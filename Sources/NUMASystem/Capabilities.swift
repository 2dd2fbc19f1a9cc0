import CNUMA
import Glibc

/// The calling thread's capabilities, through libcap (sys/capability.h):
/// what it holds, its bounding set, and the calls that give some up.
/// Capabilities, the ambient and bounding sets and no_new_privs belong to a
/// thread: each call here reads or changes the calling thread's only
/// (cap_set_proc changes every thread only with libpsx, which we do not link).
public enum Capabilities {
    /// Capability numbers (linux/capability.h) the callers name.
    public static let dacOverride = CAP_DAC_OVERRIDE, dacReadSearch = CAP_DAC_READ_SEARCH, setPCap = CAP_SETPCAP,
        sysPtrace = CAP_SYS_PTRACE, sysAdmin = CAP_SYS_ADMIN, sysNice = CAP_SYS_NICE, netAdmin = CAP_NET_ADMIN

    /// The numbers a capability mask can hold (libcap's __CAP_MAXBITS).
    public static let numbers: Range<Int32> = 0..<64

    /// The effective and permitted sets of the calling thread.
    public struct Sets: Sendable, Equatable {
        public var effective: Set<Int32>
        public var permitted: Set<Int32>
    }

    /// The calling thread's sets: cap_get_proc(3), each capability read with
    /// cap_get_flag(3).
    public static func current() -> Result<Sets, SystemError> {
        guard let state = cap_get_proc() else { return .failure(.last("cap_get_proc")) }
        defer { cap_free(UnsafeMutableRawPointer(state)) }
        func members(_ flag: cap_flag_t) -> Set<Int32> {
            Set(numbers.filter { cap in
                var value = CAP_CLEAR
                return cap_get_flag(state, cap, flag, &value) == 0 && value == CAP_SET
            })
        }
        return .success(Sets(effective: members(CAP_EFFECTIVE), permitted: members(CAP_PERMITTED)))
    }

    /// libcap's name of a capability, upper case ("CAP_DAC_OVERRIDE"), with
    /// cap_to_name(3); a number this libcap does not know comes back as the
    /// number ("41"); nil only when libcap cannot allocate.
    public static func name(_ cap: Int32) -> String? {
        guard let text = cap_to_name(cap) else { return nil }
        defer { cap_free(UnsafeMutableRawPointer(text)) }
        return String(cString: text).uppercased()
    }

    /// How many capabilities this libcap was built to know (cap_max_bits(3)):
    /// the kernel may know more (its /proc/sys/kernel/cap_last_cap says).
    public static var libcapCount: Int32 { cap_max_bits() }

    /// Whether `cap` is in the calling thread's bounding set (cap_get_bound(3));
    /// false too for a number the kernel does not know.
    public static func isBounded(_ cap: Int32) -> Bool { cap_get_bound(cap) == 1 }

    /// Removes `cap` from the calling thread's bounding set for good
    /// (cap_drop_bound(3)); needs CAP_SETPCAP in the effective set.
    public static func dropFromBoundingSet(_ cap: Int32) -> Result<Void, SystemError> {
        Syscall.libcCheck("cap_drop_bound \(cap)") { cap_drop_bound(cap) }
    }

    /// Empties the calling thread's ambient set: prctl(PR_CAP_AMBIENT,
    /// PR_CAP_AMBIENT_CLEAR_ALL) through libcap's cap_prctl(3). EINVAL on a
    /// kernel before 4.3, which has no ambient set.
    public static func clearAmbient() -> Result<Void, SystemError> {
        Syscall.libcCheck("prctl PR_CAP_AMBIENT_CLEAR_ALL") { cap_prctl(prCapAmbient, prCapAmbientClearAll, 0, 0, 0, 0) }
    }

    /// Sets no_new_privs on the calling thread: prctl(PR_SET_NO_NEW_PRIVS, 1)
    /// through cap_prctl(3). Nothing it executes can gain a privilege; it
    /// cannot be unset.
    public static func setNoNewPrivileges() -> Result<Void, SystemError> {
        Syscall.libcCheck("prctl PR_SET_NO_NEW_PRIVS") { cap_prctl(prSetNoNewPrivs, 1, 0, 0, 0, 0) }
    }

    // prctl(2) numbers (linux/prctl.h, not in Swift's Glibc module); through
    // libcap's non-variadic cap_prctl since Swift cannot call prctl itself.
    private static let prSetNoNewPrivs = 38
    private static let prCapAmbient = 47
    private static let prCapAmbientClearAll = 4
}

/// A capability state built in memory (libcap's cap_t), to be given to the
/// calling thread in one call; freed with it.
public struct CapabilityState: ~Copyable {
    private let handle: cap_t

    /// `caps` in the effective and permitted sets, nothing inheritable:
    /// cap_init(3) and cap_set_flag(3).
    public init(effectiveAndPermitted caps: [Int32]) throws(SystemError) {
        guard let state = cap_init() else { throw .last("cap_init") }
        var values = caps
        if !values.isEmpty {
            for flag in [CAP_EFFECTIVE, CAP_PERMITTED]
                where cap_set_flag(state, flag, Int32(values.count), &values, CAP_SET) != 0 {
                let error = SystemError.last("cap_set_flag")
                cap_free(UnsafeMutableRawPointer(state))
                throw error
            }
        }
        handle = state
    }

    deinit { cap_free(UnsafeMutableRawPointer(handle)) }

    /// Makes this the calling thread's three sets (cap_set_proc(3)).
    public func apply() -> Result<Void, SystemError> {
        Syscall.libcCheck("cap_set_proc") { cap_set_proc(handle) }
    }
}
