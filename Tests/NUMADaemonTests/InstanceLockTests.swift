import Foundation
import Glibc
import Testing
@testable import NUMADaemon

@Suite struct InstanceLockTests {
    @Test func secondInstanceIsRefusedNamingThePid() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        let state = folder + "/state"   // missing: the lock creates it
        let lock = try InstanceLock(stateDirectory: state)
        let path = state + "/numabalance.lock"
        #expect(lock.path == path)
        #expect(lock.isHeld)
        #expect(SystemTestFiles.permissions(state) == 0o700)
        #expect(SystemTestFiles.text(path) == "\(getpid())\n")

        // flock belongs to the open file description: a second open in the
        // same process conflicts like another process would.
        do {
            _ = try InstanceLock(stateDirectory: state)
            Issue.record("a second lock was granted while the first is held")
        } catch {
            #expect(error.description.contains("another numabalance is running (pid \(getpid()), holds \(path))"))
            #expect(error.holder == getpid())
        }

        lock.release()
        #expect(!lock.isHeld)
        lock.release()   // twice is harmless
        let again = try InstanceLock(stateDirectory: state)
        #expect(again.isHeld)
    }

    /// Issue 15, point 4 (security review §3.3): the pid write truncated a
    /// symlink's target.
    @Test func aSymlinkedLockFileIsRefusedAndItsTargetKept() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        try "IMPORTANT FILE CONTENT\n".write(toFile: folder + "/precious", atomically: true, encoding: .utf8)
        symlink(folder + "/precious", folder + "/numabalance.lock")
        do {
            _ = try InstanceLock(stateDirectory: folder)
            Issue.record("a lock was taken through a symlink")
        } catch {
            #expect(error.description.contains("is a symbolic link"), "\(error)")
        }
        #expect(SystemTestFiles.text(folder + "/precious") == "IMPORTANT FILE CONTENT\n")
    }

    @Test func deinitReleases() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        func takeAndDrop() throws {
            let lock = try InstanceLock(stateDirectory: folder)
            #expect(lock.isHeld)
        }
        try takeAndDrop()
        let lock = try InstanceLock(stateDirectory: folder)
        #expect(lock.isHeld)
    }

    @Test func aStalePidIsReplaced() throws {
        let folder = SystemTestFiles.temporaryFolder()
        defer { SystemTestFiles.remove(folder) }
        // A crashed holder's file: longer text than ours, no lock on it.
        try "4194303 from a previous run\n".write(toFile: folder + "/numabalance.lock", atomically: false, encoding: .utf8)
        let lock = try InstanceLock(stateDirectory: folder)
        #expect(lock.isHeld)
        #expect(SystemTestFiles.text(folder + "/numabalance.lock") == "\(getpid())\n")
    }
}
