import Foundation
import Glibc
import Logging
import NUMAModel
import Testing
@testable import NUMADaemon

/// Issue 15, points 7 and 14 (security review 6.2, 6.6): root's daemon keeps
/// its lock and the saved kernel.numa_balancing in one fixed folder, and a
/// start restores a value left saved before anything else can fail. A temp
/// folder stands in for /run/numabalance, a temp file for the sysctl.
@Suite struct HostStateTests {
    struct Fixture {
        let folder = SystemTestFiles.temporaryFolder()
        var sysctl: String { folder + "/numa_balancing" }
        var host: HostState { HostState(folder: folder + "/run", sysctlPath: sysctl) }
        var sysctlText: String? { SystemTestFiles.text(sysctl) }
        /// A daemon that disabled the kernel balancer and died without restoring it.
        func crashedWhileDisabled() throws {
            try "1\n".write(toFile: sysctl, atomically: false, encoding: .utf8)
            try host.kernelSwitch().disable()
        }
    }

    @Test("a claim takes the host's lock and restores a value left saved by a crash")
    func claimRestores() throws {
        let f = Fixture()
        defer { SystemTestFiles.remove(f.folder) }
        try f.crashedWhileDisabled()
        #expect(f.sysctlText == "0\n")
        let claim = f.host.claim()
        let lock = try claim.lock.get()
        defer { lock.release() }
        #expect(try claim.recovered?.get() == 1)
        #expect(f.sysctlText == "1\n")
        #expect(SystemTestFiles.mode(f.host.kernelSwitch().savedPath) == nil)
    }

    @Test("while a daemon holds the host, a second claim fails naming it and leaves its saved value alone")
    func secondClaimLeavesTheValue() throws {
        let f = Fixture()
        defer { SystemTestFiles.remove(f.folder) }
        let first = try f.host.claim().lock.get()
        defer { first.release() }
        try "1\n".write(toFile: f.sysctl, atomically: false, encoding: .utf8)
        try f.host.kernelSwitch().disable()   // the running daemon's own
        let second = f.host.claim()
        guard case .failure(let error) = second.lock else { Issue.record("two claims on one host"); return }
        #expect(error.holder == getpid())
        #expect(second.recovered.map { _ in "tried" } == nil)
        #expect(f.sysctlText == "0\n")
    }

    @Test("a folder others can write is refused for the lock")
    func writableFolderRefused() throws {
        let f = Fixture()
        defer { SystemTestFiles.remove(f.folder) }
        try FileManager.default.createDirectory(atPath: f.host.folder, withIntermediateDirectories: false)
        chmod(f.host.folder, 0o777)
        guard case .failure(let error) = f.host.claim().lock else { Issue.record("locked in a world-writable folder"); return }
        #expect(error.description.contains("writable by group or others"), "\(error)")
    }

    /// Before the fix the recovery ran only after the config loaded: a bad
    /// config left the kernel balancer off for good.
    @Test("a start that fails on its config has already restored the sysctl",
          .enabled(if: geteuid() == 0, "the daemon claims the host only as root (Tests/run runs as root)"))
    func brokenConfigStillRestores() throws {
        let f = Fixture()
        defer { SystemTestFiles.remove(f.folder) }
        try f.crashedWhileDisabled()
        try "dryRun: maybe\n".write(toFile: f.folder + "/bad.yaml", atomically: true, encoding: .utf8)
        let status = Daemon.run(source: SettingsSource(configPath: f.folder + "/bad.yaml"), host: f.host)
        #expect(status == 1)
        #expect(f.sysctlText == "1\n")
    }

    @Test("only a root daemon that acts or disables the kernel balancer claims the host")
    func whoClaims() {
        let root = geteuid() == 0
        #expect(HostState.claimsHost(dryRun: false, disablesKernelBalancing: false) == root)
        #expect(HostState.claimsHost(dryRun: true, disablesKernelBalancing: true) == root)
        #expect(!HostState.claimsHost(dryRun: true, disablesKernelBalancing: false))
    }

    /// Issue 15, point 8: under systemd the unit's ExecStartPre=+ saves and
    /// writes 0, its ExecStopPost=+ writes back; the daemon between them
    /// must neither restore the value as a crash's leftover nor write it at
    /// its exit (it runs with /proc/sys read-only). A hand-run daemon's
    /// leftover is still restored at the next start.
    @Test("the service's saved value: prepared before the daemon, left alone by it, restored by the unit's ExecStopPost")
    func serviceHoldsTheValue() throws {
        let f = Fixture()
        defer { SystemTestFiles.remove(f.folder) }
        try "1\n".write(toFile: f.sysctl, atomically: false, encoding: .utf8)
        #expect(try f.host.prepareForService(.warn).get().contains("left as it is"))
        #expect(f.sysctlText == "1\n")
        let done = try f.host.prepareForService(.disable).get()
        #expect(done.contains("was 1") && done.contains("now 0"), "\(done)")
        #expect(f.sysctlText == "0\n")
        let kernelSwitch = f.host.kernelSwitch()
        #expect(kernelSwitch.savedHolder() == .service)
        // The daemon's start: its claim and its set-up leave the value as it is.
        let claim = f.host.claim()
        let lock = try claim.lock.get()
        #expect(try claim.recovered?.get() == nil)
        let logger = Logger(label: "test")
        #expect(try Daemon.setUpKernelBalancing(kernelSwitch, setting: .disable, logger: logger) == .standalone)
        #expect(f.sysctlText == "0\n" && kernelSwitch.savedHolder() == .service)
        // Its exit: nothing written (it could not: /proc/sys is read-only to it).
        Daemon.restoreKernelBalancing(kernelSwitch, setting: .disable, logger: logger)
        #expect(f.sysctlText == "0\n" && kernelSwitch.savedHolder() == .service)
        // While it runs, the unit's ExecStopPost= would find it holding the host.
        guard case .failure = f.host.claim(includingService: true).lock else { Issue.record("two claims"); return }
        lock.release()
        // After it: `restore --kernel-balancing` writes 1 back.
        let stopPost = f.host.claim(includingService: true)
        defer { try? stopPost.lock.get().release() }
        #expect(try stopPost.recovered?.get() == 1)
        #expect(f.sysctlText == "1\n" && kernelSwitch.savedHolder() == nil)
    }

    @Test("a hand-run daemon disables and restores itself, and keeps CAP_SYS_ADMIN only then")
    func daemonHoldsTheValue() throws {
        let f = Fixture()
        defer { SystemTestFiles.remove(f.folder) }
        try "1\n".write(toFile: f.sysctl, atomically: false, encoding: .utf8)
        let kernelSwitch = f.host.kernelSwitch()
        let logger = Logger(label: "test")
        #expect(try Daemon.setUpKernelBalancing(kernelSwitch, setting: .disable, logger: logger) == .standalone)
        #expect(f.sysctlText == "0\n" && kernelSwitch.savedHolder() == .daemon)
        Daemon.restoreKernelBalancing(kernelSwitch, setting: .disable, logger: logger)
        #expect(f.sysctlText == "1\n" && kernelSwitch.savedHolder() == nil)
    }
}
