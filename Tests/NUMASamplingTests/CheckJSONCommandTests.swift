import Foundation
import Testing

/// `policy validate --json` and `config check --json` (issue 18): the same
/// verdicts as the text, one line of JSON, each error with its place.
extension PolicyCommandTests {
    func jsonObject(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    @Test("policy validate --json: ok per file, every error with file, line, column and key path")
    func validateJSON() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.yaml", bad = dir + "/bad.yaml"
        try write(policy(name: "good", comm: "x"), to: good)
        try write(policy(name: "bad", comm: "x").replacingOccurrences(of: "  nodes: [0]\n", with: "  nodez: [0]\n  nodes: 0-x\n"),
                  to: bad)
        let result = try runCommand(numabalance, ["policy", "validate", "--json", good, bad])
        #expect(result.status == 1)
        #expect(result.stdout.split(separator: "\n").count == 1, "one line: \(result.stdout)")
        let report = try jsonObject(result.stdout)
        #expect(report["ok"] as? Bool == false)
        let results = try #require(report["results"] as? [[String: Any]])
        #expect(results.count == 2)
        #expect(results[0]["ok"] as? Bool == true && results[0]["policies"] as? Int == 1)
        let errors = try #require(results[1]["errors"] as? [[String: Any]])
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.map { $0["path"] as? String } == ["placement.nodez", "placement.nodes"], "\(errors)")
        #expect(errors.allSatisfy { ($0["line"] as? Int ?? 0) > 0 && ($0["column"] as? Int ?? 0) > 0 && $0["file"] as? String == bad })
        // The text says the same.
        let text = try runCommand(numabalance, ["policy", "validate", good, bad])
        #expect(text.status == 1 && text.stdout.contains("\(good): ok (1 policy)"))
        #expect(text.stdout.contains("\(bad):") && text.stdout.contains("placement.nodes: not a node list"), "\(text.stdout)")
    }

    @Test("config check --json: every setting as the file writes it, or the errors with their places")
    func configCheckJSON() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.yaml", bad = dir + "/bad.yaml"
        try write("scanPeriod:\n  min: 2s\nmetrics:\n  listen: 127.0.0.1:9464\n", to: good)
        try write("scanPeriod:\n  min: never\nsampling:\n  minRss: 1MiB\n", to: bad)
        let ok = try runCommand(numabalance, ["config", "check", "--json", good])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        let report = try jsonObject(ok.stdout)
        let settings = try #require(report["settings"] as? [String: String])
        #expect(settings["scanPeriod.min"] == "2s" && settings["scanPeriod.max"] == "1m")
        #expect(settings["metrics.listen"] == "127.0.0.1:9464" && settings["kernelBalancing"] == "warn")
        #expect(settings.count >= 20 && report["file"] as? String == good)
        let failed = try runCommand(numabalance, ["config", "check", "--json", bad])
        #expect(failed.status == 1)
        let errors = try #require(try jsonObject(failed.stdout)["errors"] as? [[String: Any]])
        #expect(errors.map { $0["path"] as? String } == ["scanPeriod.min", "sampling.minRss"], "\(errors)")
        #expect(errors.map { $0["line"] as? Int } == [2, 4])
    }
}
