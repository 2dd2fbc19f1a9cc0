import Testing
@testable import NUMAPolicy

@Suite struct YAMLReaderTests {
    @Test func durations() throws {
        #expect(try Units.parseDuration("500ms").get() == .milliseconds(500))
        #expect(try Units.parseDuration("30s").get() == .seconds(30))
        #expect(try Units.parseDuration("2m").get() == .seconds(120))
        #expect(try Units.parseDuration("1h").get() == .seconds(3600))
        #expect(try Units.parseDuration("1.5s").get() == .milliseconds(1500))
        for bad in ["30", "s", "1.5ms", "30sec", "-1s", "1..5s", ""] {
            #expect((try? Units.parseDuration(bad).get()) == nil, "\(bad)")
        }
        #expect(Units.format(.seconds(120)) == "2m")
        #expect(Units.format(.seconds(90)) == "90s")
        #expect(Units.format(.milliseconds(500)) == "500ms")
        #expect(Units.format(.zero) == "0ms")
    }

    @Test func sizes() throws {
        #expect(try Units.parseSize("64MiB").get() == 64 << 20)
        #expect(try Units.parseSize("1.5GiB").get() == 3 << 29)
        #expect(try Units.parseSize("4096").get() == 4096)
        #expect(try Units.parseSize("2GB").get() == 2_000_000_000)
        #expect(try Units.parseSize("512B").get() == 512)
        #expect(Units.parseSize("64M") == .failure(UnitError(
            "unknown size unit \"M\"; write MiB (powers of 1024) or MB (powers of 1000)")))
        #expect(Units.formatSize(64 << 20) == "64MiB")
        #expect(Units.formatSize(1000) == "1000B")
    }

    @Test func suggestionsAreCloseOrNothing() {
        #expect(Suggestion.closest(to: "nodez", among: ["mode", "nodes", "group"]) == "nodes")
        #expect(Suggestion.closest(to: "maxRateMbps", among: ["migrate", "maxRateMBps"]) == "maxRateMBps")
        #expect(Suggestion.closest(to: "gruop", among: ["mode", "nodes", "group"]) == "group")
        #expect(Suggestion.closest(to: "priority", among: ["mode", "nodes", "group"]) == nil)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("ab", "ba") == 1)
    }

    @Test func valuesPointAtTheirLineAndColumn() {
        let text = """
            apiVersion: numabalance/v1
            kind: Policy
            name: p
            match:
              comm: [a, b]
            placement:
              mode: interleave
              nodes: [0, 1, 7]
            """
        #expect(policyErrors(text, topology: TestTopology.twoNodesAndCXL) == [
            "t.yaml:8:17: placement.nodes[2]: node 7 does not exist on this machine (nodes: 0-2)",
        ])
    }

    @Test func anEmptyValueIsReportedAtItsKey() {
        let text = policyText(extra: "memory:\n  maxRateMBps:\n")
        #expect(policyErrors(text) == [
            "t.yaml:7:3: memory.maxRateMBps: expected a rate in MiB/s (a number), got nothing",
        ])
    }

    @Test func plainYesAndNoAreBooleansAndMustBeQuotedAsNames() {
        #expect(policyErrors(policyText(match: "comm: [no]")) == [
            "t.yaml:4:16: match.comm[0]: expected a string, got a boolean (no); quote it to mean the text",
        ])
        #expect(policyErrors(policyText(match: "comm: [\"no\"]")).isEmpty)
    }

    @Test func aFileWithNoPolicyIsAnError() {
        #expect(policyErrors("# nothing here\n") == [
            "t.yaml:1:1: no policy in this file (a policy starts with apiVersion: numabalance/v1)",
        ])
    }

    @Test func errorsAreSortedByPlace() {
        let list = ConfigErrorList([
            ConfigError("b", at: SourceLocation(file: "f", line: 3, column: 1)),
            ConfigError("a", at: SourceLocation(file: "f", line: 1, column: 9)),
            ConfigError("a", at: SourceLocation(file: "f", line: 1, column: 9)),
        ])
        #expect(list.description == "f:1:9: a\nf:3:1: b")
    }

    @Test func aSyntaxErrorInALaterDocumentStillReportsTheEarlierOnes() {
        let text = policyText(placement: "mode: pin") + "\n---\napiVersion: [numabalance/v1\n"
        let found = policyErrors(text)
        #expect(found.count == 2)
        #expect(found.first == "t.yaml:5:19: placement.mode: mode pin needs nodes (e.g. nodes: [0])")
        #expect(found.last?.hasPrefix("t.yaml:9:1: YAML syntax error:") == true)
    }

    @Test func aTabInNestedIndentationIsNamed() {
        let text = "apiVersion: numabalance/v1\nkind: Policy\nname: p\nmatch:\n  comm: [a]\nplacement:\n  \tmode: auto\n"
        #expect(policyErrors(text) == [
            "t.yaml:7:3: YAML syntax error: tab character in indentation; YAML indents with spaces only",
        ])
    }

    @Test func aTabAfterTheKeyIsFine() {
        #expect(policyErrors(policyText(extra: "memory:\n  migrate:\ttrue\n")).isEmpty)
    }
}
