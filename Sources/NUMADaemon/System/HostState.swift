import NUMAPolicy
import NUMAProc
import NUMASystem

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
        Host.isRoot && (!dryRun || disablesKernelBalancing)
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
    /// that a daemon which did not exit cleanly left saved; with
    /// `includingService` (the unit's ExecStopPost=), the service's too.
    public func claim(includingService: Bool = false) -> Claim {
        let lock: Result<InstanceLock, InstanceLockError>
        do { lock = .success(try InstanceLock(stateDirectory: folder)) } catch { lock = .failure(error) }
        guard case .success = lock else { return Claim(lock: lock, recovered: nil) }
        let recovered: Result<Int?, KernelBalancingError>
        let kernelSwitch = kernelSwitch()
        do { recovered = .success(try includingService ? kernelSwitch.restore() : kernelSwitch.recoverAfterCrash()) } catch {
            recovered = .failure(error)
        }
        return Claim(lock: lock, recovered: recovered)
    }

    /// `numabalance prepare --kernel-balancing`, the unit's ExecStartPre=+:
    /// with `kernelBalancing: disable`, saves kernel.numa_balancing here for
    /// the service and writes 0, holding the host's lock meanwhile. The
    /// daemon then finds it done and never writes /proc/sys itself. Returns
    /// what was done, in words.
    public func prepareForService(_ setting: KernelBalancing) -> Result<String, DaemonError> {
        guard setting == .disable else {
            return .success("kernelBalancing: \(setting.rawValue): kernel.numa_balancing is left as it is")
        }
        let claim = claim()
        let lock: InstanceLock
        switch claim.lock {
        case .success(let held): lock = held
        case .failure(let error):
            return .failure(DaemonError(error.holder.map { "numabalance (pid \($0)) is running: not starting another" }
                ?? error.description))
        }
        defer { lock.release() }
        var done = ""
        switch claim.recovered {
        case .success(let value?)?: done = "restored kernel.numa_balancing=\(value), left at 0 by a daemon that did not exit cleanly; "
        case .failure(let error)?: return .failure(DaemonError("\(error)"))
        default: break
        }
        let kernelSwitch = kernelSwitch()
        do {
            let found = try kernelSwitch.disable(holder: .service)
            return .success(done + (found == 0
                ? "kernel.numa_balancing is 0 already: nothing saved, nothing to restore"
                : "kernel.numa_balancing was \(found): saved in \(kernelSwitch.savedPath) for the service, now 0"))
        } catch {
            return .failure(DaemonError("\(error)"))
        }
    }

    public func kernelSwitch() -> KernelBalancingSwitch {
        KernelBalancingSwitch(stateDirectory: folder, sysctlPath: sysctlPath)
    }
}
