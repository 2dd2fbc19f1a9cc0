import Testing
@testable import NUMAProc

@Suite struct ProcStatTests {
    @Test func parsesTheHostsStat() throws {
        let cpus = try ProcStat.parseCPUs(try Fixture.text("host/stat"))
        #expect(cpus.map(\.cpu) == [0, 1])
        // cpu0 4381 0 1023 23181 396 0 48 48 0 0
        #expect(cpus[0] == CPUTimes(cpu: 0, busyTicks: 4381 + 1023 + 48 + 48,
                                    totalTicks: 4381 + 1023 + 23181 + 396 + 48 + 48))
    }

    @Test func guestTimeIsNotCountedTwice() throws {
        let cpus = try ProcStat.parseCPUs(try Fixture.text("proc/stat"))
        #expect(cpus.count == 4)
        // cpu2 2000 0 1000 46000 100 0 70 10 300 0: guest 300 is inside user already.
        #expect(cpus[2] == CPUTimes(cpu: 2, busyTicks: 3080, totalTicks: 49180))
    }

    @Test func oldKernelsWithFourColumns() throws {
        #expect(try ProcStat.parseCPUs("cpu 1 2 3 4\ncpu0 1 2 3 4\n") == [CPUTimes(cpu: 0, busyTicks: 6, totalTicks: 10)])
    }

    @Test func offlineCPUsAreAbsent() throws {
        let cpus = try ProcStat.parseCPUs("cpu0 1 0 1 8 0 0 0 0 0 0\ncpu3 2 0 2 6 0 0 0 0 0 0\n")
        #expect(cpus.map(\.cpu) == [0, 3])
    }

    @Test(arguments: [
        "",
        "cpu  1 2 3 4\nintr 1\n",
        "cpux 1 2 3 4\n",
        "cpu0 1 2 3\n",
        "cpu0 1 2 x 4\n",
        "cpu0 18446744073709551615 1 1 1\n",
        "cpu99999999 1 2 3 4\n",
    ])
    func rejectsGarbage(text: String) {
        #expect(throws: ProcParseError.self) { _ = try ProcStat.parseCPUs(text) }
    }
}
