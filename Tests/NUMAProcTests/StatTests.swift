import Testing
@testable import NUMAProc

@Suite struct StatTests {
    @Test func parsesTheHostsStat() throws {
        let stat = try Stat.parse(try Fixture.text("host/self-stat"))
        #expect(stat.comm == "bash")
        #expect(stat.state == "S")
        #expect(stat.numThreads == 1)
        #expect(stat.startTimeTicks > 0)
        #expect(stat.rssPages > 0)
        #expect(stat.processor == 0 || stat.processor == 1)
        #expect(!stat.isKernelThread)
    }

    @Test func kernelThreadFlag() throws {
        let stat = try Stat.parse(try Fixture.text("host/kthreadd-stat"))
        #expect(stat.pid == 2 && stat.comm == "kthreadd")
        #expect(stat.isKernelThread)
        #expect(stat.flags == 2_129_984)
    }

    @Test func commWithSpacesAndParentheses() throws {
        let stat = try Stat.parse(try Fixture.text("proc/123/task/124/stat"))
        #expect(stat.pid == 124)
        #expect(stat.comm == "bgworker: (a b) c)")
        #expect(stat.state == "R")
        #expect(stat.ppid == 1)
        #expect(stat.flags == 4_194_624)
        #expect(stat.utimeTicks == 300 && stat.stimeTicks == 50 && stat.cpuTicks == 350)
        #expect(stat.numThreads == 2)
        #expect(stat.startTimeTicks == 987_700)
        #expect(stat.rssPages == 86913)
        #expect(stat.processor == 3)
    }

    @Test func commOfTheBrief() throws {
        let line = "77 ((a b) c)) S 1 77 77 0 -1 4194304 0 0 0 0 5 6 0 0 20 0 1 0 1234 0 -3 "
            + "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0"
        let stat = try Stat.parse(line)
        #expect(stat.comm == "(a b) c)")
        #expect(stat.rssPages == -3)
        #expect(stat.processor == 1)
        #expect(stat.startTimeTicks == 1234)
    }

    @Test func commWithANewline() throws {
        let line = "8 (x\ny) S 1 8 8 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2"
        #expect(try Stat.parse(line).comm == "x\ny")
        #expect(try Stat.parse(line).processor == 2)
    }

    @Test func everyCutThrows() throws {
        let text = try Fixture.text("proc/123/stat")
        // Field 39 sits well before the end, so cut only up to it.
        let bytes = Array(text.utf8)
        var spaces = 0
        var end = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: " ") {
            spaces += 1
            if spaces == 38 { end = index; break }
        }
        for length in 0..<end {
            let cut = String(decoding: bytes[..<length], as: UTF8.self)
            #expect(throws: ProcParseError.self, "cut at \(length)") { _ = try Stat.parse(cut) }
        }
        #expect(try Stat.parse(String(decoding: bytes[..<(end + 2)], as: UTF8.self)).processor == 1)
    }

    @Test(arguments: [
        "",
        "no parentheses at all",
        ")( backwards",
        "x (cat) S 1",
        "-5 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2",
        "99999999999 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2",
        "5 (cat) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2",
        "5 (cat) S x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2",
        "5 (cat) S 1 1 1 0 -1 0 0 0 0 0 99999999999999999999999 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2",
        "5 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 -1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2",
        "5 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 99999999",
        "5 (cat) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -1",
    ])
    func rejectsGarbage(text: String) {
        #expect(throws: ProcParseError.self) { _ = try Stat.parse(text, source: "/proc/5/stat") }
    }
}
