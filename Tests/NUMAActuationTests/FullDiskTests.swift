import Foundation
import Glibc
import NUMAActuation
import NUMAModel
import Testing

/// Security review 3.6: on a full disk the intent cannot be written, and
/// then the act must not be done (write-ahead: an act the journal does not
/// know of could never be undone). A real full file system: a 64 KiB tmpfs.
@Suite("Journal on a full disk", .serialized)
struct FullDiskTests {
    @Test("no room for the intent: the act is not done, the error says why, and the journal still reads",
          .enabled("mounts a small tmpfs: needs root (Tests/run runs as root)") {
              geteuid() == 0 || !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
          })
    func fullDisk() throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("nb-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        defer { rmdir(mountPoint) }
        try #require(mount("tmpfs", mountPoint, "tmpfs", 0, "size=64k,mode=0700") == 0,
                     "mount tmpfs: \(String(cString: strerror(errno)))")
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let journal = Journal.inDirectory(mountPoint + "/state")
        let kernel = RecordingKernel()
        kernel.addProcess(pid: 10, threads: [10], cpus: CPUSet([0, 1, 2, 3]))
        let runner = PlanRunner(actuator: LinuxActuator(kernel: kernel, options: options(kernel)), journal: journal, by: "test")
        let pin = { (cpus: [Int]) in
            Action.setAffinity(SetAffinity(process: kernel.identity(10), cpus: CPUSet(cpus), nodes: [1], reason: testReason))
        }
        // One act with room: journalled and done.
        #expect(runner.run([pin([2, 3])]).map(\.outcome.status) == [.done])
        // Then the disk fills up, the journal's last page too (tmpfs gives
        // whole pages): blank lines, which the reader skips.
        let size = try #require(FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int)
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: UInt8(ascii: "\n"), count: (4096 - size % 4096) % 4096))
        try handle.close()
        let filler = open(mountPoint + "/filler", O_WRONLY | O_CREAT, 0o600)
        try #require(filler >= 0)
        let block = [UInt8](repeating: 1, count: 4096)
        while block.withUnsafeBytes({ write(filler, $0.baseAddress, $0.count) }) > 0 {}
        #expect(errno == ENOSPC)
        close(filler)
        let callsBefore = kernel.calls.filter { $0.hasPrefix("setaffinity") }.count
        let records = runner.run([pin([0, 1])])
        #expect(records.map(\.outcome.status) == [.failed])
        #expect(records.first?.outcome.error?.contains("no space left on device") == true, "\(records)")
        #expect(kernel.calls.filter { $0.hasPrefix("setaffinity") }.count == callsBefore, "acted without an intent on disk")
        // What was written before reads back whole; a torn tail, if any, is one damaged line at most.
        let (entries, damaged) = try journal.read()
        #expect(entries.filter { $0.phase == .outcome }.count == 1)
        #expect(damaged <= 1)
        // Room again: the next act is journalled on a line of its own, and restore undoes both that were done.
        unlink(mountPoint + "/filler")
        #expect(runner.run([pin([0, 1])]).map(\.outcome.status) == [.done])
        let restorer = Restorer(kernel: kernel, journal: journal, selfPID: 99, by: "test")
        #expect(try restorer.restore(pid: 10).map(\.status) == [.restored, .restored])
    }
}
