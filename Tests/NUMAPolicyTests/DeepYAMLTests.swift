import Foundation
import Testing
@testable import NUMAPolicy

/// A policy nested thousands of levels deep crashed Yams' recursive parser:
/// `policy validate` at 8,000 levels, the daemon on SIGHUP at 20,000 and at
/// every start after (issue 15, point 6; security review §5.5). Deep or huge
/// files are refused before parsing, with the line and column.
@Suite("Deep and huge YAML is refused before parsing")
struct DeepYAMLTests {
    static let header = "apiVersion: numabalance/v1\nkind: Policy\nname: deep\nmatch:\n  comm: "

    func errors(_ text: String) -> [ConfigError] {
        do {
            _ = try PolicyLoader.load(text: text, file: "deep.yaml")
            return []
        } catch {
            return error.errors
        }
    }

    @Test("20,000 levels of [ (the daemon's crash), of { and of compact - : one error at the line and column, no crash",
          arguments: ["[", "{\"a\": ", "- "])
    func deepFails(opener: String) throws {
        let text = opener == "- "
            ? Self.header + "x\nrules:\n  " + String(repeating: "- ", count: 20_000) + "x\n"
            : Self.header + String(repeating: opener, count: 20_000) + "\n"
        let found = errors(text)
        let first = try #require(found.first, "a 20,000-level file loaded")
        #expect(found.count == 1)
        #expect(first.description.contains("nested 65 levels deep"), "\(first)")
        #expect(first.location.line == (opener == "- " ? 7 : 5))
        #expect(first.location.column > 1)
    }

    @Test("block nesting by indentation past 64 levels is refused too")
    func deepBlock() throws {
        var text = Self.header + "x\nextra:\n"
        for level in 1...70 { text += String(repeating: " ", count: level) + "k\(level):\n" }
        let first = try #require(errors(text).first)
        #expect(first.description.contains("levels deep"), "\(first)")
    }

    @Test("brackets in quoted, plain and block scalars and in comments count for nothing")
    func bracketsInScalars() {
        let many = String(repeating: "[{", count: 200)
        let text = Self.header + "'\(many)'\n# \(many)\nnote: \"\(many)\"\nplain: a\(many)\nblock: |\n  \(many)\n  - - - \(many)\n"
        #expect(YAMLNesting.firstTooDeep(in: text) == nil)
    }

    @Test("every policy and config file the project ships nests far below the limit")
    func shippedFilesPass() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folders = ["Packaging", "Policies", "Tests/NUMAPolicyTests"].map { root.appendingPathComponent($0).path }
        var checked = 0
        for folder in folders {
            guard let walker = FileManager.default.enumerator(atPath: folder) else { continue }
            for case let name as String in walker where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
                if let deep = YAMLNesting.firstTooDeep(in: text, limit: 8) {
                    Issue.record("\(name): \(deep.depth) levels at \(deep.line):\(deep.column)")
                }
                checked += 1
            }
        }
        #expect(checked >= 20)
    }

    @Test("a file over 1 MiB is refused by its size at 1:1, read no further than one byte past it")
    func hugeFile() throws {
        let path = NSTemporaryDirectory() + "numabalance-huge-\(getpid()).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = Self.header + "x\n" + String(repeating: "# padding\n", count: 120_000)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try PolicyLoader.load(path: path)
            Issue.record("a 1.2 MB policy file loaded")
        } catch {
            let first = try #require(error.errors.first)
            #expect(first.description.contains("larger than 1048576 bytes"), "\(first)")
            #expect(first.location.line == 1 && first.location.column == 1)
        }
    }
}
