import Foundation
import Glibc
import Testing
@testable import NUMAPolicy

/// What a root daemon loads must be root's alone: a policy file another user
/// can write, or one they can add to the folder, steers what root does to
/// every process (issue 15, point 13; security review §3.8).
@Suite("Config and policy files: whose they may be")
struct TrustedFileTests {
    static func policy(_ name: String) -> String {
        "apiVersion: numabalance/v1\nkind: Policy\nname: \(name)\nmatch: {comm: [x]}\nplacement: {mode: auto}\n"
    }

    func withFolder(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("trusted-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o755)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    func errors(_ folder: String, rule: TrustedFile.Rule) -> [String] {
        do {
            _ = try PolicySet.load(directory: folder, generation: 1, rule: rule)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test("root's rule: a file of another uid, a group-writable file and a folder others can write are refused; a readable one is loaded",
          .enabled("needs root, to give a file away (CI runs as root)") { geteuid() == 0 })
    func rootRule() throws {
        try withFolder { folder in
            try Self.policy("mine").write(toFile: folder + "/10-mine.yaml", atomically: true, encoding: .utf8)
            chmod(folder + "/10-mine.yaml", 0o644)
            #expect(errors(folder, rule: .rootOnly).isEmpty)

            try Self.policy("theirs").write(toFile: folder + "/20-theirs.yaml", atomically: true, encoding: .utf8)
            chown(folder + "/20-theirs.yaml", 65534, 65534)
            let foreign = errors(folder, rule: .rootOnly)
            #expect(foreign.count == 1 && foreign[0].contains("20-theirs.yaml:1:1: it is owned by uid 65534, not root"),
                    "\(foreign)")
            #expect(errors(folder, rule: .readable).isEmpty, "validating a draft needs no root-owned file")

            chown(folder + "/20-theirs.yaml", 0, 0)
            chmod(folder + "/20-theirs.yaml", 0o664)
            let writable = errors(folder, rule: .rootOnly)
            #expect(writable.count == 1 && writable[0].contains("it is writable by its group (mode 0664)"), "\(writable)")

            chmod(folder + "/20-theirs.yaml", 0o644)
            chmod(folder, 0o777)
            let open = errors(folder, rule: .rootOnly)
            #expect(open.count == 1 && open[0].contains("refusing the policy folder: it is writable by its group and others"),
                    "\(open)")
        }
    }

    @Test("a FIFO in the policy folder is refused, not read (the daemon's reload would block on it)")
    func fifoRefused() throws {
        try withFolder { folder in
            #expect(mkfifo(folder + "/10-pipe.yaml", 0o644) == 0)
            let found = errors(folder, rule: .readable)
            #expect(found.count == 1 && found[0].contains("10-pipe.yaml:1:1: it is not a regular file"), "\(found)")
        }
    }
}
