import Foundation
import Glibc
import Testing
@testable import NUMADaemon

/// A temp file stands in for /proc/sys/kernel/numa_balancing.
@Suite struct KernelBalancingSwitchTests {
    struct Fixture {
        let folder = SystemTestFiles.temporaryFolder()
        var sysctl: String { folder + "/numa_balancing" }
        var state: String { folder + "/state" }
        var kernelSwitch: KernelBalancingSwitch { KernelBalancingSwitch(stateDirectory: state, sysctlPath: sysctl) }
        func setSysctl(_ text: String) throws { try text.write(toFile: sysctl, atomically: false, encoding: .utf8) }
        var sysctlText: String? { SystemTestFiles.text(sysctl) }
        func remove() { SystemTestFiles.remove(folder) }
    }

    @Test func disableSavesThenWritesZeroAndRestoreWritesItBack() throws {
        let f = Fixture()
        defer { f.remove() }
        try f.setSysctl("1\n")
        let kernelSwitch = f.kernelSwitch
        #expect(kernelSwitch.read() == 1)
        #expect(try kernelSwitch.disable() == 1)
        #expect(f.sysctlText == "0\n")
        #expect(SystemTestFiles.text(kernelSwitch.savedPath) == "1 daemon\n")
        #expect(SystemTestFiles.permissions(f.state) == 0o700)
        #expect(SystemTestFiles.mode(kernelSwitch.savedPath + ".partial") == nil)

        #expect(try kernelSwitch.restore() == 1)
        #expect(f.sysctlText == "1\n")
        #expect(SystemTestFiles.mode(kernelSwitch.savedPath) == nil)
        #expect(try kernelSwitch.restore() == nil)
        #expect(f.sysctlText == "1\n")
    }

    /// Issue 15, point 4 (security review §3.3): the temporary file was
    /// opened with O_TRUNC through whatever stood at its name.
    @Test func aSymlinkAtTheTemporaryNameIsRemovedNotFollowed() throws {
        let f = Fixture()
        defer { f.remove() }
        try f.setSysctl("1\n")
        try FileManager.default.createDirectory(atPath: f.state, withIntermediateDirectories: true)
        try "IMPORTANT\n".write(toFile: f.folder + "/precious", atomically: true, encoding: .utf8)
        let kernelSwitch = f.kernelSwitch
        symlink(f.folder + "/precious", kernelSwitch.savedPath + ".partial")
        #expect(try kernelSwitch.disable() == 1)
        #expect(SystemTestFiles.text(f.folder + "/precious") == "IMPORTANT\n")
        #expect(SystemTestFiles.text(kernelSwitch.savedPath) == "1 daemon\n")
        #expect(f.sysctlText == "0\n")
    }

    @Test func alreadyZeroSavesAndWritesNothing() throws {
        let f = Fixture()
        defer { f.remove() }
        try f.setSysctl(" 0\n")   // a rewrite would lose the leading blank
        #expect(try f.kernelSwitch.disable() == 0)
        #expect(f.sysctlText == " 0\n")
        #expect(SystemTestFiles.mode(f.kernelSwitch.savedPath) == nil)
        #expect(try f.kernelSwitch.restore() == nil)
        #expect(f.sysctlText == " 0\n")
    }

    @Test func aCrashLeftSavedValueIsRestoredAtStart() throws {
        let f = Fixture()
        defer { f.remove() }
        try f.setSysctl("2\n")
        #expect(try f.kernelSwitch.disable() == 2)
        // The daemon dies here without restoring; the next start:
        #expect(f.sysctlText == "0\n")
        let next = KernelBalancingSwitch(stateDirectory: f.state, sysctlPath: f.sysctl)
        #expect(try next.recoverAfterCrash() == 2)
        #expect(f.sysctlText == "2\n")
        #expect(SystemTestFiles.mode(next.savedPath) == nil)
        #expect(try next.recoverAfterCrash() == nil)
        #expect(f.sysctlText == "2\n")
    }

    @Test func unreadableSysctlIsReportedWithItsPath() {
        let f = Fixture()
        defer { f.remove() }
        #expect(f.kernelSwitch.read() == nil)
        do {
            try f.kernelSwitch.disable()
            Issue.record("disable succeeded without a sysctl file")
        } catch {
            #expect(error.description.contains(f.sysctl))
            #expect(error.description.contains("No such file or directory"))
            #expect(error.description.contains("kernelBalancing: leave"))
        }
    }

    @Test func aSavedFileThatIsNotANumberIsReported() throws {
        let f = Fixture()
        defer { f.remove() }
        try f.setSysctl("0\n")
        try FileManager.default.createDirectory(atPath: f.state, withIntermediateDirectories: true)
        try "garbage\n".write(toFile: f.kernelSwitch.savedPath, atomically: false, encoding: .utf8)
        do {
            try f.kernelSwitch.recoverAfterCrash()
            Issue.record("a garbage saved value was restored")
        } catch {
            #expect(error.description.contains(f.kernelSwitch.savedPath))
            #expect(error.description.contains("not a number"))
        }
        #expect(f.sysctlText == "0\n")
    }

    @Test func permissionErrorsNameTheCapabilityAndTheWayOut() {
        for code in [EACCES, EPERM] {
            let text = KernelBalancingError.write(0, to: "/proc/sys/kernel/numa_balancing", errno: code).description
            #expect(text.contains("/proc/sys/kernel/numa_balancing"))
            #expect(text.contains(String(cString: strerror(code))))
            #expect(text.contains("CAP_SYS_ADMIN"))
            #expect(text.contains("kernelBalancing: warn"))
        }
        #expect(KernelBalancingError.write(0, to: "/x", errno: EROFS).description.contains("ProtectKernelTunables"))
    }

    /// A real refused write: /proc/sys/kernel/cap_last_cap is a read-only
    /// sysctl (0444), which refuses root too. The value saved first is
    /// removed again, as nothing was disabled.
    @Test func aRefusedWriteLeavesNothingSaved() throws {
        let sysctl = "/proc/sys/kernel/cap_last_cap"
        let f = Fixture()
        defer { f.remove() }
        let kernelSwitch = KernelBalancingSwitch(stateDirectory: f.state, sysctlPath: sysctl)
        let found = try #require(kernelSwitch.read())
        do {
            try kernelSwitch.disable()
            Issue.record("writing \(sysctl) succeeded")
        } catch {
            #expect(error.description.contains("cannot write 0 to \(sysctl)"))
            #expect(error.description.contains("CAP_SYS_ADMIN") || error.description.contains("read-only"))
        }
        #expect(kernelSwitch.read() == found)
        #expect(SystemTestFiles.mode(kernelSwitch.savedPath) == nil)
    }
}
