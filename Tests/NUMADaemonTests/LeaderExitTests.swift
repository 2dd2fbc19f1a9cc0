import NUMAModel
import NUMAProc
import Testing
@testable import NUMADaemon

/// The kernel reports a leader thread's exit as its process's (the leader's
/// pid is the group's); the process is kept while its other threads run.
@Suite("a leader thread's exit")
struct LeaderExitTests {
    let identity = ProcessIdentity(pid: 40, startTime: 900)

    func stat(_ state: Character, threads: Int, start: UInt64 = 900) -> TaskStat {
        TaskStat(pid: 40, comm: "java", state: state, ppid: 1, numThreads: threads, startTimeTicks: start)
    }

    @Test("a zombie leader with threads left: the process lives on")
    func leaderGoneThreadsRunning() {
        #expect(Balancer.leaderLeftAlone(stat("Z", threads: 3), identity))
    }

    @Test("the whole process ended, or another process has the pid: dropped")
    func processGone() {
        #expect(!Balancer.leaderLeftAlone(nil, identity), "no /proc entry")
        #expect(!Balancer.leaderLeftAlone(stat("Z", threads: 1), identity), "a zombie awaiting its parent")
        #expect(!Balancer.leaderLeftAlone(stat("Z", threads: 3, start: 901), identity), "the pid reused")
        #expect(!Balancer.leaderLeftAlone(stat("R", threads: 3, start: 901), identity))
    }
}
