import Glibc
import NUMAProc

/// What root's daemon keeps for the host rather than for a config: the
/// instance lock and the saved kernel.numa_balancing, in one fixed folder.
/// Fixed, so that a second daemon started with another config or
/// --state-dir still finds the first (security review 6.6), and so that a
/// start recovers the sysctl before it reads any config: a bad policy, a
/// crash at load or a lock error no longer leave the kernel balancer off
/// (6.2). In /run: a reboot resets the sysctl, and so the record goes too.
///
/// A dry run that leaves the sysctl alone changes nothing on the host: it
/// runs beside the service, locked in its own state folder. So does a
/// daemon that is not root (it can change neither the sysctl nor other
/// users' processes).
public struct HostState: Sendable {
    public static let folder = "/run/numabalance"

    public let folder: String
    public let sysctlPath: String

    public init(folder: String = HostState.folder, sysctlPath: String = KernelBalancingSwitch.defaultSysctlPath) {
        self.folder = folder
        self.sysctlPath = sysctlPath
    }

    /// Whether a daemon with these settings claims the host.
    public static func claimsHost(dryRun: Bool, disablesKernelBalancing: Bool) -> Bool {
        geteuid() == 0 && (!dryRun || disablesKernelBalancing)
    }

    /// The outcome of a start's first step.
    public struct Claim: Sendable {
        /// The host's lock, or why it could not be had (another daemon holds it).
        public var lock: Result<InstanceLock, InstanceLockError>
        /// The value restored, nil when none was saved; not tried while
        /// another daemon holds the lock (the value is its to restore).
        public var recovered: Result<Int?, KernelBalancingError>?
    }

    /// Takes the host's lock and, holding it, restores a kernel.numa_balancing
    /// that a run which did not exit cleanly left saved.
    public func claim() -> Claim {
        let lock: Result<InstanceLock, InstanceLockError>
        do { lock = .success(try InstanceLock(stateDirectory: folder)) } catch { lock = .failure(error) }
        guard case .success = lock else { return Claim(lock: lock, recovered: nil) }
        let recovered: Result<Int?, KernelBalancingError>
        do { recovered = .success(try kernelSwitch().recoverAfterCrash()) } catch {
            recovered = .failure(error)
        }
        return Claim(lock: lock, recovered: recovered)
    }

    public func kernelSwitch() -> KernelBalancingSwitch {
        KernelBalancingSwitch(stateDirectory: folder, sysctlPath: sysctlPath)
    }
}
