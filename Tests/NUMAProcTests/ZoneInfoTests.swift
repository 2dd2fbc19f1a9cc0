import Foundation
import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct ZoneInfoTests {
    @Test func parsesTheHostsZoneinfo() throws {
        let zones = try ZoneInfo.parse(try Fixture.text("host/zoneinfo"))
        #expect(zones.count == 1)
        // DMA + DMA32 + Normal; the empty Movable zone's 32s and the empty Device zone are left out.
        #expect(zones[0] == ZoneWatermarks(
            node: 0, minPages: 44 + 8912 + 7939, lowPages: 55 + 11140 + 9923, highPages: 66 + 13368 + 11907,
            freePages: 3840 + 772_497 + 41377, managedPages: 3840 + 772_497 + 688_128))
    }

    @Test func sumsPopulatedZonesPerNode() throws {
        let zones = try ZoneInfo.parse(try Fixture.text("proc/zoneinfo"))
        #expect(zones[0] == ZoneWatermarks(node: 0, minPages: 7011, lowPages: 8764, highPages: 10517,
                                           freePages: 1_503_800, managedPages: 2_003_840))
        #expect(zones[1] == ZoneWatermarks(node: 1, minPages: 8000, lowPages: 10000, highPages: 12000,
                                           freePages: 1_500_000, managedPages: 2_000_000))
        #expect(zones.count == 2)
    }

    @Test func fourNodesWithACPULessMemoryNode() throws {
        let zones = try ZoneInfo.parse(try Fixture.text("zoneinfo/four-node-cpuless"))
        #expect(zones.keys.sorted() == [0, 1, 2, 3])
        #expect(zones[0]?.highPages == 7517)
        #expect(zones[0]?.managedPages == 1_483_840)
        #expect(zones[3] == ZoneWatermarks(node: 3, minPages: 6000, lowPages: 7500, highPages: 9000,
                                           freePages: 2_000_000, managedPages: 4_190_000))
    }

    @Test func sparseNodeIDs() throws {
        let zones = try ZoneInfo.parse(try Fixture.text("zoneinfo/sparse-0-2"))
        #expect(zones.keys.sorted() == [0, 2])
        #expect(zones[2]?.freePages == 800_000)
    }

    @Test func aNodeWithOnlyEmptyZonesIsListedWithZeros() throws {
        let text = "Node 4, zone   Normal\n  pages free     0\n        min      0\n        low      0\n"
            + "        high     0\n        spanned  0\n        present  0\n        managed  0\n"
        #expect(try ZoneInfo.parse(text) == [4: ZoneWatermarks(node: 4)])
    }

    @Test(arguments: [
        "",
        "  pages free 12\n",
        "Node x, zone DMA\n",
        "Node 0 zone DMA\n",
        "Node 0, zone DMA\n  pages free\n",
        "Node 0, zone DMA\n  pages free 1\n  min 1\n  low 1\n  high x\n  managed 1\n",
        "Node 0, zone DMA\n  pages free 1\n  min 1\n  low 1\n  high 99999999999999999999\n  managed 1\n",
        "Node 0, zone DMA\n  pages free 1\n  min 1\n  low 1\n  managed 1\n",
    ])
    func rejectsGarbage(text: String) {
        #expect(throws: ProcParseError.self) { _ = try ZoneInfo.parse(text) }
    }

    @Test func cutInsideAZoneThrows() throws {
        let text = try Fixture.text("proc/zoneinfo")
        // Cut just after the last zone's "min" line: low, high and managed are missing.
        let lastZone = try #require(text.range(of: "Node 1, zone  Movable"))
        let rest = text[lastZone.upperBound...]
        let minLine = try #require(rest.range(of: "min      32\n"))
        let cut = String(text[..<minLine.upperBound])
        #expect {
            _ = try ZoneInfo.parse(cut)
        } throws: { error in
            (error as? ProcParseError)?.reason.contains("has no low") == true
        }
        for cut in Fixture.cuts(of: text, step: 97) {
            do { _ = try ZoneInfo.parse(cut) } catch { #expect(!error.reason.isEmpty) }
        }
    }
}
