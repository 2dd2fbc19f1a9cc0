import Testing
@testable import NUMAProc

@Suite struct MapsTests {
    @Test func parsesTheHostsOwnMaps() throws {
        let maps = try Maps.parse(try Fixture.text("host/self-maps"))
        #expect(maps.count == 43)
        #expect(maps.allSatisfy { $0.start < $0.end })
        #expect(maps.contains { $0.path == "[heap]" && $0.isAnonymous })
        #expect(maps.contains { $0.path == "[stack]" && $0.writable })
        #expect(maps.contains { $0.path == "[vdso]" && $0.isSpecial && $0.executable })
        let vsyscall = try #require(maps.last)
        #expect(vsyscall.path == "[vsyscall]")
        #expect(vsyscall.start == 0xffff_ffff_ff60_0000)
        #expect(!vsyscall.readable && vsyscall.executable)
        // The kernel ends an unnamed line with a space after the inode.
        #expect(maps.contains { $0.path.isEmpty && $0.inode == 0 })
    }

    @Test func parsesEveryFieldOfALine() throws {
        let line = "55d0c8c00000-55d0c9000000 r-xp 00200000 fe:01 1311862                    /usr/lib/postgresql/16/bin/postgres\n"
        let mapping = try #require(try Maps.parse(line).first)
        #expect(mapping.start == 0x55d0_c8c0_0000)
        #expect(mapping.end == 0x55d0_c900_0000)
        #expect(mapping.bytes == 4 << 20)
        #expect(mapping.readable && !mapping.writable && mapping.executable && !mapping.shared)
        #expect(mapping.permissions == "r-xp")
        #expect(mapping.offset == 0x200000)
        #expect(mapping.device == "fe:01")
        #expect(mapping.inode == 1_311_862)
        #expect(mapping.path == "/usr/lib/postgresql/16/bin/postgres")
        #expect(!mapping.isAnonymous && !mapping.isSpecial)
    }

    @Test func keepsSpacesAndDeletedInPaths() throws {
        let maps = try Maps.parse(try Fixture.text("proc/123/maps"))
        #expect(maps.count == 28)
        let spaced = try #require(maps.first { $0.start == 0x7f00_14e1_2000 })
        #expect(spaced.path == "/var/lib/postgresql/data dir/pg_filenode.map")
        let deleted = try #require(maps.first { $0.start == 0x7f00_14e2_2000 })
        #expect(deleted.path == "/var/lib/postgresql/data dir/base/16384/2619 (deleted)")
        #expect(deleted.shared)
        let buffers = try #require(maps.first { $0.start == 0x7f00_0000_0000 })
        #expect(buffers.path == "/dev/zero (deleted)" && buffers.shared && buffers.bytes == 256 << 20)
    }

    @Test func classifiesAnonymousAndSpecialAreas() throws {
        let maps = try Maps.parse(try Fixture.text("proc/123/maps"))
        let byPath = { (path: String) in maps.first { $0.path == path } }
        #expect(byPath("[heap]")?.isAnonymous == true)
        #expect(byPath("[stack]")?.isAnonymous == true)
        #expect(byPath("[anon:jemalloc arena]")?.isAnonymous == true)
        #expect(byPath("[anon:jemalloc arena]")?.isSpecial == false)
        #expect(byPath("/SYSV0052e2c1 (deleted)")?.isAnonymous == false)
        for special in ["[vvar]", "[vdso]", "[vsyscall]"] {
            #expect(byPath(special)?.isSpecial == true, "\(special)")
            #expect(byPath(special)?.isAnonymous == false, "\(special)")
        }
        for path in ["[vvar_vclock]", "[uprobes]", "[sigpage]"] {
            #expect(Mapping(start: 0, end: 4096, path: path).isSpecial, "\(path)")
        }
        #expect(!Mapping(start: 0, end: 4096, path: "[anon_shmem:pool]").isSpecial)
        #expect(Mapping(start: 0, end: 4096, path: "[stack:1234]").isAnonymous)
    }

    @Test func emptyTextIsNoMappings() throws {
        #expect(try Maps.parse("").isEmpty)
        #expect(try Maps.parse("\n\n").isEmpty)
    }

    @Test(arguments: [
        ("zz-55d0c9000000 r-xp 00200000 fe:01 1 /x", "bad address range \"zz-55d0c9000000\""),
        ("2000-1000 r-xp 00000000 fe:01 1 /x", "bad address range"),
        ("1000-2000 rwxq 00000000 fe:01 1 /x", "bad permissions"),
        ("1000-2000 rw 00000000 fe:01 1 /x", "bad permissions"),
        ("1000-2000 r--p 0000000g fe:01 1 /x", "bad offset"),
        ("1000-2000 r--p 00000000 fe01 1 /x", "bad device"),
        ("1000-2000 r--p 00000000 fe:01 -1 /x", "bad inode"),
        ("1000-2000 r--p 00000000 fe:01 99999999999999999999999 /x", "bad inode"),
        ("10000000000000000-2 r--p 00000000 fe:01 1 /x", "bad address range"),
        ("1000-2000 r--p", "expected 5 fields"),
    ])
    func rejectsMalformedLines(line: String, reason: String) {
        #expect {
            _ = try Maps.parse("1000-2000 rw-p 00000000 00:00 0\n" + line + "\n", source: "maps")
        } throws: { error in
            guard let error = error as? ProcParseError else { return false }
            return error.line == 2 && error.reason.contains(reason) && error.source == "maps"
        }
    }

    @Test func errorDescriptionNamesSourceLineAndText() throws {
        let error = #expect(throws: ProcParseError.self) {
            _ = try Maps.parse("1000-2000 rw-p 00000000 00:00 0\n1000-2000 rw-p 00000000 00:00 0\nzz r-xp 0 00:00 0 /x\n")
        }
        #expect(error?.description == "maps:3: bad address range \"zz\"")
    }

    @Test func everyTruncationThrowsOrParsesAPrefix() throws {
        let text = try Fixture.text("proc/123/maps")
        let full = try Maps.parse(text)
        var parsed = 0
        for cut in Fixture.cuts(of: text, step: 13) {
            // A cut inside the path leaves a valid, shorter path: that is the
            // only way a cut line can parse, and then every earlier line is intact.
            let whole = Fixture.completeLines(cut)
            do {
                let maps = try Maps.parse(cut)
                parsed += 1
                #expect(maps.count == whole || maps.count == whole + 1, "\(maps.count) entries from \(whole) lines")
                #expect(Array(maps.prefix(whole)) == Array(full.prefix(whole)), "cut at \(cut.utf8.count) bytes")
            } catch {
                #expect(error.line == whole + 1, "the error names line \(error.line ?? 0), the cut one is \(whole + 1)")
            }
        }
        #expect(parsed > 0, "no cut parsed: the prefix check never ran")
    }
}
