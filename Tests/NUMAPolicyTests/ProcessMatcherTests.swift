import NUMAModel
import Testing
@testable import NUMAPolicy

@Suite struct ProcessMatcherTests {
    func policies(_ text: String) throws -> [Policy] { try PolicyLoader.load(text: text, file: "t.yaml") }

    func matcher(_ text: String) throws -> ProcessMatcher { try ProcessMatcher(policies: try policies(text)) }

    static let twoPolicies = """
        apiVersion: numabalance/v1
        kind: Policy
        name: big-postgres
        match: {comm: [postgres], minRSS: 1GiB}
        placement: {mode: pin, nodes: [1]}
        ---
        apiVersion: numabalance/v1
        kind: Policy
        name: postgres
        match: {comm: [postgres]}
        placement: {mode: auto}
        """

    @Test func firstMatchWinsInFileOrder() throws {
        let matcher = try matcher(Self.twoPolicies)
        let big = ProcessFacts(pid: 1, comm: "postgres", rssBytes: 2 << 30)
        let small = ProcessFacts(pid: 2, comm: "postgres", rssBytes: 100 << 20)
        #expect(matcher.policy(for: big).name == "big-postgres")
        #expect(matcher.policy(for: small).name == "postgres")
        #expect(matcher.firstMatch(for: small) == 1)
    }

    @Test func noMatchFallsBackToTheBuiltInDefault() throws {
        let matcher = try matcher(Self.twoPolicies)
        let facts = ProcessFacts(pid: 3, comm: "nginx")
        #expect(matcher.firstMatch(for: facts) == nil)
        #expect(matcher.policy(for: facts) == BuiltinPolicy.default)
    }

    @Test func minRSSNeedsAKnownRSS() throws {
        let matcher = try matcher(Self.twoPolicies)
        #expect(matcher.policy(for: ProcessFacts(pid: 1, comm: "postgres")).name == "postgres")
        #expect(matcher.policy(for: ProcessFacts(pid: 1, comm: "postgres", rssBytes: 1 << 30)).name == "big-postgres")
    }

    @Test func regexIsSearchedInTheJoinedCommandLine() throws {
        let matcher = try matcher(policyText(match: #"cmdline: '-jar\s+\S*kafka'"#))
        let kafka = ProcessFacts(pid: 1, comm: "java", cmdline: ["/usr/bin/java", "-Xmx4g", "-jar", "/opt/kafka.jar"])
        let other = ProcessFacts(pid: 2, comm: "java", cmdline: ["/usr/bin/java", "-jar", "/opt/zookeeper.jar"])
        #expect(matcher.firstMatch(for: kafka) == 0)
        #expect(matcher.firstMatch(for: other) == nil)
        #expect(matcher.firstMatch(for: ProcessFacts(pid: 3, comm: "kthreadd")) == nil)
    }

    @Test func cgroupMatchesThePathAndBelowByComponent() throws {
        let matcher = try matcher(policyText(match: "cgroup: [/system.slice/postgresql.service, /kubepods.slice/*/db]"))
        func matches(_ path: String?) -> Bool {
            matcher.firstMatch(for: ProcessFacts(pid: 1, comm: "x", cgroupPath: path)) != nil
        }
        #expect(matches("/system.slice/postgresql.service"))
        #expect(matches("/system.slice/postgresql.service/subgroup"))
        #expect(matches("/system.slice/postgresql.service (deleted)"))
        #expect(!matches("/system.slice/postgresql.service2"))
        #expect(!matches("/system.slice"))
        #expect(matches("/kubepods.slice/pod42/db/x"))
        #expect(!matches("/kubepods.slice/pod42/web"))
        #expect(!matches(nil))
    }

    @Test func userMatchesByNameOrUid() throws {
        let matcher = try matcher(policyText(match: #"user: [postgres, 1001, "1002"]"#))
        #expect(matcher.firstMatch(for: ProcessFacts(pid: 1, comm: "x", uid: 26, userName: "postgres")) == 0)
        #expect(matcher.firstMatch(for: ProcessFacts(pid: 1, comm: "x", uid: 1001)) == 0)
        #expect(matcher.firstMatch(for: ProcessFacts(pid: 1, comm: "x", uid: 1002)) == 0)
        #expect(matcher.firstMatch(for: ProcessFacts(pid: 1, comm: "x", uid: 26, userName: "mysql")) == nil)
    }

    @Test func allCriteriaMustHold() throws {
        let matcher = try matcher(policyText(match: "comm: [java], user: [app], minCPU: 0.5"))
        let busy = ProcessFacts(pid: 1, comm: "java", uid: 5, userName: "app", cpuShare: 2)
        #expect(matcher.firstMatch(for: busy) == 0)
        var idle = busy
        idle.cpuShare = 0.1
        #expect(matcher.firstMatch(for: idle) == nil)
        var unknown = busy
        unknown.cpuShare = nil
        #expect(matcher.firstMatch(for: unknown) == nil, "no CPU share yet: minCPU does not match")
        var otherUser = busy
        otherUser.userName = "root"
        #expect(matcher.firstMatch(for: otherUser) == nil)
    }

    @Test func exeGlobStaysWithinAComponent() throws {
        let matcher = try matcher(policyText(match: "exe: [/usr/lib/jvm/*/bin/java]"))
        func matches(_ exe: String) -> Bool {
            matcher.firstMatch(for: ProcessFacts(pid: 1, comm: "java", exe: exe)) != nil
        }
        #expect(matches("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"))
        #expect(matches("/usr/lib/jvm/java-17/bin/java (deleted)"))
        #expect(!matches("/usr/lib/jvm/a/b/bin/java"))
    }

    @Test func unitMatchesSystemAndUserUnits() throws {
        let matcher = try matcher(policyText(match: #"unit: ["postgresql@*.service", app-firefox.scope]"#))
        func matches(_ path: String) -> Bool {
            matcher.firstMatch(for: ProcessFacts(pid: 1, comm: "x", cgroupPath: path)) != nil
        }
        #expect(matches("/system.slice/system-postgresql.slice/postgresql@16-main.service"))
        #expect(matches("/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope"))
        #expect(!matches("/system.slice/postgresql.service"))
    }

    @Test func systemdUnitsFromCgroupPaths() {
        func units(_ path: String) -> [String] { SystemdUnits(cgroupPath: path).all }
        #expect(units("/system.slice/foobar.service/sdfdsaf") == ["foobar.service"])
        #expect(units("/system.slice/system-waldo.slice/_cpu.service/x") == ["cpu.service"])
        #expect(units("/user.slice/user-1000.slice/user@1000.service/server.service")
                == ["user@1000.service", "server.service"])
        #expect(units("/user.slice/user-1000.slice/session-2.scope/waldo.slice/foobar.service")
                == ["session-2.scope", "foobar.service"])
        #expect(units("/user.slice/user-1000.slice/session-2.scope/waldo/uuuux") == ["session-2.scope"])
        #expect(units("/user.slice/user-1000.slice/user@.service/server.service") == [])
        #expect(units("/") == [])
        #expect(units("/system.slice") == [])
    }

    @Test func aBadRegexBuiltInCodeIsRefusedByTheMatcher() {
        var match = ProcessMatch()
        match.cmdline = "java(-jar"
        let policy = Policy(name: "p", match: match, placement: Placement(mode: .auto))
        #expect(throws: PatternError.self) { _ = try ProcessMatcher(policies: [policy]) }
    }
}
