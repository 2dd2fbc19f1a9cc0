import Foundation
import Glibc
import NUMAPolicy
import NUMAProc
import Testing

/// Security review 1.5: `user:` matched the owner of /proc/PID, which is the
/// effective uid (a user's setuid-root program matched `user: root`), and
/// root for any process that is not dumpable. It matches the real uid now.
@Suite struct RealUIDTests {
    @Test("a process's user is status's real uid, not the owner of its /proc folder")
    func realUIDFromStatus() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nb-uid-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/123", withIntermediateDirectories: true)
        // NUMAProc's fixture process, its status's Uid line ours: real uid
        // 1234, effective root (a user's setuid-root program).
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
            + "/NUMAProcTests/Fixtures/proc/123"
        try FileManager.default.copyItem(atPath: fixture + "/stat", toPath: root + "/123/stat")
        let status = try String(contentsOfFile: fixture + "/status", encoding: .utf8)
            .replacingOccurrences(of: "Uid:\t999\t999\t999\t999", with: "Uid:\t1234\t0\t0\t0")
        #expect(status.contains("Uid:\t1234\t0\t0\t0"))
        try status.write(toFile: root + "/123/status", atomically: true, encoding: .utf8)
        try "sudo\0-i\0".write(toFile: root + "/123/cmdline", atomically: true, encoding: .utf8)
        let facts = try #require(ProcessFactsReader(procfs: ProcFS(root: root)).facts(123))
        #expect(facts.uid == 1234, "uid \(facts.uid): the folder's owner is \(getuid())")
    }
}
