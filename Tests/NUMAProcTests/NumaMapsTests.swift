import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct NumaMapsTests {
    @Test func parsesTheHostsNumaMaps() throws {
        let entries = try NumaMaps.parse(try Fixture.text("host/self-numa_maps"))
        #expect(entries.count == 42)
        #expect(entries.allSatisfy { $0.policy == "default" })
        #expect(entries.contains { $0.isHeap && ($0.anonPages ?? 0) > 0 })
        #expect(entries.contains { $0.isStack })
        #expect(entries.contains { $0.path == "/usr/lib/x86_64-linux-gnu/libc.so.6" })
        #expect(entries.allSatisfy { $0.pagesByNode.keys.allSatisfy { $0 == 0 } })
    }

    @Test func parsesTheTwoNodeFixture() throws {
        let entries = try NumaMaps.parse(try Fixture.text("proc/123/numa_maps"))
        #expect(entries.count == 28)
        let text = try #require(entries.first { $0.start == 0x55d0_c8c0_0000 })
        #expect(text.path == "/usr/lib/postgresql/16/bin/postgres")
        #expect(text.mappedPages == 1024 && text.pagesByNode == [0: 600, 1: 424] && text.kernelPageSizeKB == 4)

        let heap = try #require(entries.first { $0.isHeap })
        #expect(heap.path == nil && heap.anonPages == 1024 && heap.dirtyPages == 1024)
        #expect(heap.pagesByNode == [0: 1000, 1: 24])

        let buffers = try #require(entries.first { $0.start == 0x7f00_0000_0000 })
        #expect(buffers.policy == "interleave:0-1")
        #expect(buffers.path == "/dev/zero (deleted)")
        #expect(buffers.pagesByNode == [0: 32768, 1: 32768])
        #expect(buffers.residentPages == 65536)

        let sysv = try #require(entries.first { $0.start == 0x7f00_1000_0000 })
        #expect(sysv.policy == "bind:1" && sysv.path == "/SYSV0052e2c1 (deleted)")

        let huge = try #require(entries.first { $0.start == 0x7f00_1440_0000 })
        #expect(huge.isHuge && huge.path == "/anon_hugepage (deleted)")
        #expect(huge.kernelPageSizeKB == 2048 && huge.pagesByNode == [0: 1])

        let spaced = try #require(entries.first { $0.start == 0x7f00_14e2_2000 })
        #expect(spaced.path == "/var/lib/postgresql/data dir/base/16384/2619 (deleted)")
        #expect(spaced.pagesByNode == [0: 8, 1: 8])

        let guardPage = try #require(entries.first { $0.start == 0x7f00_1460_0000 })
        #expect(guardPage == NumaMapsEntry(start: 0x7f00_1460_0000))

        let stack = try #require(entries.first { $0.isStack })
        #expect(stack.pagesByNode == [1: 33])
        #expect(entries.first { $0.start == 0x7f00_1410_0000 }?.policy == "prefer:1")
    }

    @Test(arguments: [
        ("7f00 prefer (many):0-1 anon=4 N0=4 kernelpagesize_kB=4", "prefer (many):0-1"),
        ("7f00 weighted interleave:0-3 anon=4 N2=4 kernelpagesize_kB=4", "weighted interleave:0-3"),
        ("7f00 bind=static:0-1 heap anon=4 N1=4 kernelpagesize_kB=4", "bind=static:0-1"),
        ("7f00 local", "local"),
        ("7f00 interleave=relative:0-1 file=/x N0=1", "interleave=relative:0-1"),
    ])
    func policiesWithSpacesAndFlags(line: String, policy: String) throws {
        let entry = try #require(try NumaMaps.parse(line).first)
        #expect(entry.policy == policy)
        #expect(entry.start == 0x7f00)
    }

    @Test func escapedAndHugePaths() throws {
        let line = "7f00 default file=/dev/hugepages/a\\075b\\011c huge dirty=2 N0=1 N1=1 kernelpagesize_kB=2048\n"
            + "7f01 default file=/tmp/ends in huge huge\n"
            + "7f02 default file=/tmp/x\\012y mapped=1 N3=1 kernelpagesize_kB=4\n"
        let entries = try NumaMaps.parse(line)
        #expect(entries[0].path == "/dev/hugepages/a=b\tc")
        #expect(entries[0].isHuge && entries[0].dirtyPages == 2 && entries[0].kernelPageSizeKB == 2048)
        // A bare "huge" after the path is the hugetlb flag, even with nothing resident.
        #expect(entries[1].path == "/tmp/ends in huge" && entries[1].isHuge)
        // maps prints a newline in a name as \012 too: kept so the paths compare equal.
        #expect(entries[2].path == "/tmp/x\\012y")
        #expect(entries[2].pagesByNode == [3: 1])
    }

    @Test func sparseNodesAndUnknownKeys() throws {
        let entry = try #require(try NumaMaps.parse(
            "1000 default anon=10 dirty=10 swapcache=2 active=1 writeback=1 future=7 N0=4 N2=6 kernelpagesize_kB=4 shiny").first)
        #expect(entry.pagesByNode == [0: 4, 2: 6])
        #expect(entry.anonPages == 10)
    }

    @Test func emptyIsNoEntries() throws {
        #expect(try NumaMaps.parse("").isEmpty)
    }

    @Test(arguments: [
        "zz default",
        "1000",
        "1000 default N0=x",
        "1000 default N0=-1",
        "1000 default N0=99999999999999999999999",
        "1000 default N0=9007199254740993",
        "1000 default N99999=1",
        "1000 default anon=12x",
        "1000 default kernelpagesize_kB=0",
        "1000 default anon=1 \u{1}\u{2}",
        "1000 default anon=1 N0=",
    ])
    func rejectsGarbage(line: String) {
        #expect(throws: ProcParseError.self) { _ = try NumaMaps.parse("2000 default N0=1\n" + line) }
    }

    @Test func cutsThrowOrGiveAPrefix() throws {
        let text = try Fixture.text("proc/123/numa_maps")
        let full = try NumaMaps.parse(text)
        var parsed = 0
        for cut in Fixture.cuts(of: text, step: 17) {
            let whole = Fixture.completeLines(cut)
            do {
                let entries = try NumaMaps.parse(cut)
                parsed += 1
                // The whole lines as in the full parse; the cut one, if it reads, last.
                #expect(entries.count == whole || entries.count == whole + 1, "\(entries.count) entries from \(whole) lines")
                #expect(Array(entries.prefix(whole)) == Array(full.prefix(whole)), "cut at \(cut.utf8.count) bytes")
            } catch {
                #expect(error.line == whole + 1, "the error names line \(error.line ?? 0), the cut one is \(whole + 1)")
            }
        }
        #expect(parsed > 0, "no cut parsed: the prefix check never ran")
    }
}
