import Testing
@testable import NUMAProc

@Suite struct SmapsRollupTests {
    @Test func parsesTheHostsRollup() throws {
        let rollup = try SmapsRollupParser.parse(try Fixture.text("host/self-smaps_rollup"))
        #expect(rollup.rssBytes > 0 && rollup.rssBytes % 1024 == 0)
        #expect(rollup.pssBytes <= rollup.rssBytes)
        #expect(rollup.anonymousBytes <= rollup.rssBytes)
    }

    @Test func parsesTheFixtureInBytes() throws {
        let rollup = try SmapsRollupParser.parse(try Fixture.text("proc/123/smaps_rollup"))
        #expect(rollup == SmapsRollup(
            rssBytes: 347_652 * 1024, pssBytes: 120_310 * 1024, anonymousBytes: 14668 * 1024,
            anonHugePagesBytes: 2048 * 1024, shmemPmdMappedBytes: 0, swapBytes: 512 * 1024))
    }

    @Test func withoutHeaderAndWithMissingOptionalKeys() throws {
        let rollup = try SmapsRollupParser.parse("Rss:  8 kB\nPss:  4 kB\n")
        #expect(rollup == SmapsRollup(rssBytes: 8192, pssBytes: 4096))
    }

    @Test(arguments: [
        "",
        "\n\n",
        "55d0-7ffe ---p 00000000 00:00 0    [rollup]\n",
        "Pss: 4 kB\n",
        "Rss: 8 kB\n",
        "Rss: 8 kB\nPss: 4\n",
        "Rss: 8 kB\nPss: 4 MB\n",
        "Rss: 8 kB\nPss: 99999999999999999999 kB\n",
        "Rss: 8 kB\nPss: 18014398509481984 kB\n",
        "Rss: 8 kB\nPss: 4 kB\ngarbage line\n",
    ])
    func rejectsGarbage(text: String) {
        #expect(throws: ProcParseError.self) { _ = try SmapsRollupParser.parse(text) }
    }

    @Test func cutsThrowOrKeepRssAndPss() throws {
        let text = try Fixture.text("proc/123/smaps_rollup")
        for cut in Fixture.cuts(of: text, step: 5, limit: 200) {
            do {
                let rollup = try SmapsRollupParser.parse(cut)
                #expect(rollup.rssBytes == 347_652 * 1024)
            } catch {
                #expect(!error.reason.isEmpty)
            }
        }
    }
}
