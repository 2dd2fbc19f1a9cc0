import NUMAModel
import Testing
@testable import NUMAProc

@Suite struct CgroupTests {
    @Test func hybridHostHasAV2Line() throws {
        // This host mounts v1 controllers and the unified hierarchy side by side.
        #expect(try Cgroup.parseMembership(try Fixture.text("host/self-cgroup")) == "/")
    }

    @Test func pureV2() throws {
        #expect(try Cgroup.parseMembership("0::/system.slice/postgresql.service\n") == "/system.slice/postgresql.service")
    }

    @Test func v1OnlyOrEmptyHasNoPath() throws {
        #expect(try Cgroup.parseMembership("4:memory:/x\n3:cpuset:/\n1:name=systemd:/user.slice\n") == nil)
        #expect(try Cgroup.parseMembership("") == nil)
    }

    @Test func pathsMayContainColonsAndDeleted() throws {
        #expect(try Cgroup.parseMembership("0::/a:b/c (deleted)\n") == "/a:b/c (deleted)")
        #expect(Cgroup.components(of: "/a:b/c (deleted)") == ["a:b", "c"])
        #expect(Cgroup.components(of: "/") == [])
        #expect(Cgroup.components(of: "/../../x/./y") == ["x", "y"])
        #expect(Cgroup.components(of: "/a/b/../c") == ["a", "c"])
    }

    @Test(arguments: ["garbage", "x::/", "0:/", "0::relative", "1:cpu", "\u{0}\u{1}"])
    func rejectsGarbage(text: String) {
        #expect(throws: ProcParseError.self) { _ = try Cgroup.parseMembership(text) }
    }

    @Test func effectiveCpusetWalksUpToTheRoot() throws {
        let proc = ProcFS(root: Fixture.path("proc"))
        let cpuset = try proc.effectiveCpuset(123, cgroupRoot: Fixture.path("cgroup"))
        // The service has no cpuset files; system.slice limits the CPUs; the root gives the nodes.
        #expect(cpuset == EffectiveCpuset(cgroupPath: "/system.slice/postgresql.service",
                                          cpus: CPUSet([2, 3]), mems: [0, 1]))
    }

    @Test func rootCgroup() throws {
        let proc = ProcFS(root: Fixture.path("proc"))
        let cpuset = try proc.effectiveCpuset(456, cgroupRoot: Fixture.path("cgroup"))
        #expect(cpuset == EffectiveCpuset(cgroupPath: "/", cpus: CPUSet([0, 1, 2, 3]), mems: [0, 1]))
    }

    @Test func noCpusetControllerAnywhere() throws {
        let proc = ProcFS(root: Fixture.path("proc"))
        // The sysfs fixture has no cpuset files at all.
        let cpuset = try proc.effectiveCpuset(789, cgroupRoot: Fixture.path("sys"))
        #expect(cpuset.cgroupPath == "/user.slice/user-1000.slice/session-3.scope")
        #expect(cpuset.cpus == nil && cpuset.mems == nil)
    }

    @Test func missingProcess() {
        let proc = ProcFS(root: Fixture.path("proc"))
        #expect(throws: ProcReadError.noSuchProcess(pid: 999_999)) {
            _ = try proc.effectiveCpuset(999_999, cgroupRoot: Fixture.path("cgroup"))
        }
    }
}
