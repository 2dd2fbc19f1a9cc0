// How often a small process's stat is read again (issue 17: the daemon's
// own cost after a burst of starts).
@testable import NUMADaemon
import Testing

@Suite("A small process's rechecks")
struct SmallRecheckTests {
    /// Reads from its first look (0.5 s after its start) until `until` seconds old.
    static func reads(from start: Double = 0.5, until: Double) -> Int {
        var age = start, count = 0
        while age < until {
            count += 1
            age += Balancer.smallLookInterval(age: age)
        }
        return count
    }

    @Test("2 s apart while seconds old, a quarter of its age after, 30 s at most")
    func interval() {
        #expect(Balancer.smallLookInterval(age: 0.5) == 2)
        #expect(Balancer.smallLookInterval(age: 8) == 2)
        #expect(Balancer.smallLookInterval(age: 40) == 10)
        #expect(Balancer.smallLookInterval(age: 120) == 30)
        #expect(Balancer.smallLookInterval(age: 86_400) == 30)
    }

    /// A flat 2 s under a minute old read each 30 times in its first minute,
    /// 16 times in daemon-cpu's window (35 s to 125 s old).
    @Test("at most 13 reads in a process's first minute, 6 in daemon-cpu's window")
    func readsFewer() {
        #expect(Self.reads(until: 60) <= 13)
        #expect(Self.reads(from: 35, until: 125) <= 6)
    }
}
