import Testing
@testable import NUMAProc

/// Every parser, fed what no kernel prints: it throws ProcParseError or
/// returns a value, and never traps.
@Suite struct RobustnessTests {
    static let parsers: [(String, @Sendable (String) throws(ProcParseError) -> Void)] = [
        ("maps", { text throws(ProcParseError) in _ = try Maps.parse(text) }),
        ("status", { text throws(ProcParseError) in _ = try Status.parse(text) }),
        ("stat", { text throws(ProcParseError) in _ = try Stat.parse(text) }),
        ("numa_maps", { text throws(ProcParseError) in _ = try NumaMaps.parse(text) }),
        ("smaps_rollup", { text throws(ProcParseError) in _ = try SmapsRollupParser.parse(text) }),
        ("sched", { text throws(ProcParseError) in _ = try Sched.parse(text) }),
        ("zoneinfo", { text throws(ProcParseError) in _ = try ZoneInfo.parse(text) }),
        ("cgroup", { text throws(ProcParseError) in _ = try Cgroup.parseMembership(text) }),
        ("meminfo", { text throws(ProcParseError) in _ = try NodeFiles.parseMeminfo(text) }),
        ("distance", { text throws(ProcParseError) in _ = try NodeFiles.parseDistance(text) }),
        ("stat cpus", { text throws(ProcParseError) in _ = try ProcStat.parseCPUs(text) }),
    ]

    @Test func binaryGarbageThrows() {
        for seed in UInt64(1)...12 {
            let garbage = Fixture.garbage(seed: seed, count: 600)
            for (name, parse) in Self.parsers {
                // Random bytes cannot form a whole line of any of these files.
                #expect(throws: ProcParseError.self, "\(name) seed \(seed)") { try parse(garbage) }
            }
        }
    }

    @Test func nulBytesAndControlCharactersThrow() {
        let texts = ["\u{0}", "\u{0}\u{0}\u{0}\n\u{7f}", "\u{1b}[31mred\u{1b}[0m", "\u{feff}\u{fffd}"]
        for text in texts {
            for (name, parse) in Self.parsers {
                #expect(throws: ProcParseError.self, "\(name) \(text.debugDescription)") { try parse(text) }
            }
        }
    }

    @Test func emptyInput() {
        // Empty maps, numa_maps (a kernel thread) and cgroup (no hierarchy) are valid.
        let emptyIsValid: Set<String> = ["maps", "numa_maps", "cgroup"]
        for (name, parse) in Self.parsers {
            if emptyIsValid.contains(name) {
                #expect(throws: Never.self, "\(name)") { try parse("") }
            } else {
                #expect(throws: ProcParseError.self, "\(name)") { try parse("") }
            }
        }
    }

    @Test func veryLongLinesAndAbsurdNumbers() {
        let long = String(repeating: "9", count: 100_000)
        let wide = String(repeating: "1 ", count: 50_000)
        for (name, parse) in Self.parsers {
            #expect(throws: ProcParseError.self, "\(name)") { try parse(long) }
            #expect(throws: ProcParseError.self, "\(name)") { try parse("cpu0 " + long + "\n") }
            _ = try? parse(wide)  // must not trap
        }
    }

    @Test func garbageAfterARealFile() throws {
        let cases = [
            ("maps", "proc/123/maps"), ("numa_maps", "proc/123/numa_maps"), ("status", "proc/123/status"),
            ("smaps_rollup", "proc/123/smaps_rollup"), ("sched", "proc/123/sched"), ("zoneinfo", "proc/zoneinfo"),
        ]
        for (name, file) in cases {
            let parse = try #require(Self.parsers.first { $0.0 == name }?.1)
            let text = try Fixture.text(file)
            try parse(text)
            #expect(throws: ProcParseError.self, "\(name)") { try parse(text + "\u{0}\u{1}garbage\n") }
        }
    }

    @Test func numberHelpers() {
        #expect(ProcText.decimal(Array("18446744073709551615".utf8)[...]) == .max)
        #expect(ProcText.decimal(Array("18446744073709551616".utf8)[...]) == nil)
        #expect(ProcText.decimal([][...]) == nil)
        #expect(ProcText.signed(Array("-9223372036854775808".utf8)[...]) == .min)
        #expect(ProcText.signed(Array("9223372036854775808".utf8)[...]) == nil)
        #expect(ProcText.signed(Array("-".utf8)[...]) == nil)
        #expect(ProcText.hex(Array("ffffffffffffffff".utf8)[...]) == .max)
        #expect(ProcText.hex(Array("1ffffffffffffffff".utf8)[...]) == nil)
        #expect(ProcText.hex(Array("0x10".utf8)[...]) == nil)
        #expect(ProcText.quoted(Array("a\"b\u{1}".utf8)[...]) == "\"a\\x22b\\x01\"")
        #expect(ProcText.quoted(Array(String(repeating: "x", count: 50).utf8)[...]).hasSuffix("…\""))
    }
}
