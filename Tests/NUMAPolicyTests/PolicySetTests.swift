import Foundation
import Testing
@testable import NUMAPolicy

/// A folder of policy files as the daemon loads it.
@Suite struct PolicySetTests {
    /// A fresh folder holding `files` (name → text), removed after `body`.
    func withFolder(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policies-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, text) in files { try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        try body(folder)
    }

    @Test func filesLoadInByteOrderAndFirstMatchWinsAcrossFiles() throws {
        try withFolder([
            "20-web.yaml": policyText(name: "web-b", match: "comm: [nginx]"),
            "10-web.yaml": policyText(name: "web-a", match: "comm: [nginx]"),
            "Z-upper.yml": policyText(name: "upper", match: "comm: [x]"),
            ".hidden.yaml": "not: [valid",
            "notes.txt": "ignored",
            "rest.yaml": policyText(name: "rest", match: "all: true"),
        ]) { folder in
            let set = try PolicySet.load(directory: folder, generation: 3)
            // Byte order, as ls in the C locale: digits, then capitals, then lowercase.
            #expect(set.files.map { URL(fileURLWithPath: $0).lastPathComponent }
                    == ["10-web.yaml", "20-web.yaml", "Z-upper.yml", "rest.yaml"])
            #expect(set.policy(for: ProcessFacts(pid: 1, comm: "nginx")).name == "web-a")
            #expect(set.generation == 3)
        }
    }

    @Test func aMissingFolderMeansTheBuiltInDefault() throws {
        let set = try PolicySet.load(directory: "/nonexistent/policies.d", generation: 1)
        #expect(set.policies.isEmpty)
        #expect(set.policy(for: ProcessFacts(pid: 1, comm: "anything")) == BuiltinPolicy.default)
        #expect(PolicySet.builtin.policy(for: ProcessFacts(pid: 1, comm: "x")).name == "default")
    }

    @Test func aNameUsedInTwoFilesIsAnError() throws {
        try withFolder([
            "a.yaml": policyText(name: "db", match: "comm: [postgres]"),
            "b.yaml": policyText(name: "db", match: "comm: [mysqld]"),
        ]) { folder in
            #expect {
                _ = try PolicySet.load(directory: folder, generation: 1)
            } throws: { error in
                (error as? ConfigErrorList)?.description
                    == "\(folder)/b.yaml:3:7: name: duplicate policy name \"db\" (first at \(folder)/a.yaml:3:7)"
            }
        }
    }

    @Test func oneBadFileFailsTheSetAndEveryFileIsReported() throws {
        try withFolder([
            "a.yaml": policyText(name: "a", placement: "mode: pin"),
            "b.yaml": policyText(name: "b"),
            "c.yaml": policyText(name: "c", match: "comm: []"),
        ]) { folder in
            do {
                _ = try PolicySet.load(directory: folder, generation: 1)
                Issue.record("a set with bad files loaded")
            } catch let error as ConfigErrorList {
                let files = error.errors.map { URL(fileURLWithPath: $0.location.file).lastPathComponent }
                #expect(files == ["a.yaml", "c.yaml"])
            }
        }
    }
}
