import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct StatusTests {
    @Test func parsesInitOnTheHost() throws {
        let status = try Status.parse(try Fixture.text("host/pid1-status"))
        #expect(status.pid == 1 && status.tgid == 1 && status.ppid == 0)
        #expect(status.state == "S")
        #expect(status.uids == [0, 0, 0, 0] && status.gids == [0, 0, 0, 0])
        #expect(status.threads >= 1)
        #expect((status.vmRSSBytes ?? 0) > 0)
        #expect(!status.cpusAllowed.isEmpty)
        #expect(status.memsAllowed.contains(0))
        #expect(!status.isKernelThread)
    }

    @Test func kernelThreadHasNoRSS() throws {
        let status = try Status.parse(try Fixture.text("host/kthreadd-status"))
        #expect(status.name == "kthreadd")
        #expect(status.pid == 2)
        #expect(status.vmRSSBytes == nil)
        #expect(status.isKernelThread)
    }

    @Test func parsesTheTwoNodeDatabase() throws {
        let status = try Status.parse(try Fixture.text("proc/123/status"))
        #expect(status == ProcessStatus(
            name: "postgres", state: "S", tgid: 123, pid: 123, ppid: 1,
            uids: [999, 999, 999, 999], gids: [999, 999, 999, 999], threads: 2,
            vmRSSBytes: 347_652 * 1024, cpusAllowed: CPUSet([0, 1, 2, 3]),
            memsAllowed: [0, 1], isKernelThread: false))
    }

    @Test func kthreadLineDecides() throws {
        var text = minimal(extra: "Kthread:\t1\nVmRSS:\t  100 kB\n")
        #expect(try Status.parse(text).isKernelThread)
        text = minimal(extra: "Kthread:\t0\n")
        #expect(try Status.parse(text).isKernelThread == false)
    }

    @Test func heuristicsWithoutAKthreadLine() throws {
        // An old kernel: no Kthread line; no VmRSS and no VmSize means no mm.
        #expect(try Status.parse(minimal(extra: "")).isKernelThread)
        #expect(try Status.parse(minimal(extra: "VmSize:\t 10 kB\nVmRSS:\t 4 kB\n")).isKernelThread == false)
        // A zombie has lost its mm but is no kernel thread.
        #expect(try Status.parse(minimal(extra: "", state: "Z (zombie)")).isKernelThread == false)
        #expect(try Status.parse(minimal(extra: "", state: "Z (zombie)")).state == "Z")
    }

    @Test func unescapesTheName() throws {
        let text = minimal(extra: "").replacingOccurrences("Name:\tcat", with: "Name:\ta\\nb\\\\c d ")
        #expect(try Status.parse(text).name == "a\nb\\c d ")
    }

    @Test func withoutCpusetsMemsAllowedIsEmpty() throws {
        let text = minimal(extra: "").replacingOccurrences("Mems_allowed:\t1\nMems_allowed_list:\t0\n", with: "")
        #expect(try Status.parse(text).memsAllowed.isEmpty)
    }

    @Test(arguments: [
        ("Tgid:\t42", "Tgid:\tx", "bad Tgid"),
        ("Tgid:\t42", "Tgid:\t99999999999", "bad Tgid"),
        ("Uid:\t0\t0\t0\t0", "Uid:\t0\t0\t0", "Uid needs 4 ids"),
        ("Uid:\t0\t0\t0\t0", "Uid:\t0\t0\t0\t-1", "bad Uid"),
        ("Threads:\t1", "Threads:\t99999999999999999", "bad Threads"),
        ("Cpus_allowed_list:\t0-3", "Cpus_allowed_list:\t0-x", "bad Cpus_allowed_list"),
        ("Mems_allowed_list:\t0", "Mems_allowed_list:\t0-999999999", "bad Mems_allowed_list"),
        ("State:\tS (sleeping)", "State:\t? (x)", "bad State"),
        ("Pid:\t42\n", "", "no Pid line"),
        ("Cpus_allowed_list:\t0-3\n", "", "no Cpus_allowed_list line"),
        ("Mems_allowed_list:\t0\n", "", "no Mems_allowed_list line"),
    ])
    func rejectsBadValues(original: String, replacement: String, reason: String) {
        let text = minimal(extra: "VmRSS:\t 4 kB\n").replacingOccurrences(original, with: replacement)
        #expect {
            _ = try Status.parse(text)
        } throws: { error in
            (error as? ProcParseError)?.reason.contains(reason) == true
        }
    }

    @Test func truncatedVmRSSThrows() {
        for cut in ["VmRSS:\t   15232 k", "VmRSS:\t   15232", "VmRSS:\t", "VmRSS:\t 99999999999999999999 kB"] {
            #expect(throws: ProcParseError.self) { _ = try Status.parse(minimal(extra: cut + "\n")) }
        }
    }

    @Test func everyCutThrowsOrKeepsTheRequiredLines() throws {
        let text = try Fixture.text("proc/123/status")
        for cut in Fixture.cuts(of: text, step: 11) {
            do {
                let status = try Status.parse(cut)
                // Only a cut after Cpus_allowed_list and Mems_allowed_list can parse.
                #expect(status.cpusAllowed.count == 4 || status.cpusAllowed == CPUSet([0]))
            } catch {
                #expect(!error.reason.isEmpty)
            }
        }
    }

    /// A short, valid status with a few lines added before the CPU lists.
    func minimal(extra: String, state: String = "S (sleeping)") -> String {
        "Name:\tcat\nState:\t\(state)\nTgid:\t42\nPid:\t42\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
            + "Threads:\t1\n" + extra + "Cpus_allowed_list:\t0-3\nMems_allowed:\t1\nMems_allowed_list:\t0\n"
    }
}
