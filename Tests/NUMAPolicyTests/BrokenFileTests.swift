import Foundation
import Testing
@testable import NUMAPolicy

/// Every file in Broken/ fails to load with exactly the errors in the golden
/// file beside it (NAME.yaml → NAME.expected), paths relative to this folder.
/// Files named config-*.yaml are daemon configs; the others are policy files,
/// checked against a machine with nodes 0 and 1 (CPUs) and 2 (CPU-less).
@Suite struct BrokenFileTests {
    static let names = TestFiles.yamlFiles(in: TestFiles.broken)

    @Test func thereAreAtLeastTwentyBrokenFiles() {
        #expect(Self.names.count >= 20)
    }

    @Test(arguments: names)
    func brokenFileFailsWithItsGoldenErrors(name: String) throws {
        let path = TestFiles.broken + "/" + name
        let relative = "Broken/" + name
        let actual = errors(path: path, relative: relative)
        #expect(!actual.isEmpty, "\(name) loaded without error")

        // The line and key path of each error, as this test's table states them.
        let stated = try #require(BrokenFileExpectations.errors[name], "\(name) has no row in BrokenFileExpectations")
        #expect(actual.map(\.location.line) == stated.map(\.line), "\(name): lines")
        #expect(actual.map(\.path) == stated.map(\.keyPath), "\(name): key paths")

        let goldenPath = path.replacingOccurrences(of: ".yaml", with: ".expected")
        let rendered = actual.map(\.description).joined(separator: "\n") + "\n"
        switch TestFiles.goldenUpdate() {
        case .off: break
        case .refusedUnderCI:
            Issue.record("NUMABALANCE_UPDATE_GOLDEN is not honoured under CI: the golden files are the check")
        case .rewrite:
            // Rewritten for a person to read the diff, never a pass: the run fails.
            try rendered.write(toFile: goldenPath, atomically: true, encoding: .utf8)
            Issue.record("golden files rewritten; rerun without NUMABALANCE_UPDATE_GOLDEN")
        }
        let expected = try String(contentsOfFile: goldenPath, encoding: .utf8)
        #expect(rendered == expected, "\(name): got\n\(rendered)")
    }

    @Test func goldenUpdateIsRefusedUnderAnyCI() {
        #expect(TestFiles.goldenUpdate([:]) == .off)
        #expect(TestFiles.goldenUpdate(["NUMABALANCE_UPDATE_GOLDEN": "1"]) == .rewrite)
        for ci in ["true", "1", "yes"] {
            #expect(TestFiles.goldenUpdate(["NUMABALANCE_UPDATE_GOLDEN": "1", "CI": ci]) == .refusedUnderCI)
        }
    }

    @Test func everyBrokenFileHasItsStatedErrors() {
        #expect(Set(BrokenFileExpectations.errors.keys) == Set(Self.names))
    }

    @Test func everyGoldenFileHasItsBrokenFile() throws {
        let goldens = try FileManager.default.contentsOfDirectory(atPath: TestFiles.broken)
            .filter { $0.hasSuffix(".expected") }
        for golden in goldens {
            #expect(Self.names.contains(golden.replacingOccurrences(of: ".expected", with: ".yaml")), "\(golden)")
        }
    }

    /// Each error carries a line and a column inside the file.
    @Test(arguments: names)
    func everyErrorPointsInsideTheFile(name: String) throws {
        let path = TestFiles.broken + "/" + name
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for error in errors(path: path, relative: name) {
            #expect(error.location.line >= 1 && error.location.line <= lines.count, "\(error)")
            #expect(error.location.column >= 1, "\(error)")
        }
    }

    private func errors(path: String, relative: String) -> [ConfigError] {
        do {
            if relative.split(separator: "/").last?.hasPrefix("config-") == true {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                _ = try DaemonConfig.parse(text: text, file: relative)
            } else {
                _ = try PolicyLoader.load(path: path, displayName: relative, topology: TestTopology.twoNodesAndCXL)
            }
            return []
        } catch let list as ConfigErrorList {
            return list.errors
        } catch {
            return [ConfigError("\(error)", at: SourceLocation(file: relative, line: 0, column: 0))]
        }
    }
}
