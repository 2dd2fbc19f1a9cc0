import Foundation
import Glibc
import Testing

/// `numabalance exec --policy`: the command it starts runs under the
/// policy's placement (affinity and memory policy), as numa_maps shows.
extension PolicyCommandTests {
    @Test("exec --policy pin: the command runs on node 0's CPUs with its memory bound to node 0")
    func execPolicy() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/pin-node0.yaml"
        try write(policy(name: "pin-node0", comm: "x"), to: file)
        let script = "grep Cpus_allowed_list /proc/self/status; grep -c bind:0 /proc/self/numa_maps || true"
        let lastCPU = expandList(node0CPUs).split(separator: ",").last.map(String.init) ?? "0"

        let plain = try runCommand("/usr/bin/taskset", ["-c", lastCPU, "/bin/sh", "-c", script])
        #expect(plain.stdout.contains("Cpus_allowed_list:\t\(lastCPU)\n"))
        #expect(plain.stdout.split(separator: "\n").last == "0", "no bind without the policy: \(plain.stdout)")

        let result = try runCommand("/usr/bin/taskset", ["-c", lastCPU, numabalance, "exec", "--policy", file,
                                                         "--", "/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Cpus_allowed_list:\t\(node0CPUs)\n"), "\(result.stdout)")
        let bound = Int(result.stdout.split(separator: "\n").last ?? "") ?? 0
        #expect(bound > 0, "new mappings show bind:0 in numa_maps: \(result.stdout)")

        let auto = dir + "/auto.yaml"
        try write(policy(name: "auto", comm: "x", mode: "auto").replacingOccurrences(of: "  nodes: [0]\n", with: ""),
                  to: auto)
        let refused = try runCommand(numabalance, ["exec", "--policy", auto, "--", "/bin/true"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("mode auto"), "\(refused.stderr)")
        let both = try runCommand(numabalance, ["exec", "--policy", file, "--membind", "0", "--", "/bin/true"])
        #expect(both.status == 2)
    }

    @Test("exec --policy interleave and preferred: the command's memory policy, as numa_maps shows it",
          arguments: [("interleave", "interleave:0"), ("preferred", "prefer:0")])
    func execMemoryPolicy(mode: String, marker: String) throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/\(mode).yaml"
        try write(policy(name: mode, comm: "x", mode: mode), to: file)
        let script = "grep -c ' \(marker) ' /proc/self/numa_maps || true"
        let plain = try runCommand("/bin/sh", ["-c", script])
        #expect(plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(plain.stdout)")
        let result = try runCommand(numabalance, ["exec", "--policy", file, "--", "/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect((Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0,
                "new mappings show \(marker): \(result.stdout)")
    }
}

/// numactl's flags and node lists (issue 18): `exec -N all -m all` binds as
/// `--cpunodebind`/`--membind` do; numactl's options exec lacks are usage
/// errors, not a command named "-l".
extension PolicyCommandTests {
    @Test("exec -N/-m/-i/-p with numactl's node lists; an unknown numactl option is a usage error")
    func execNumactlFlags() throws {
        let script = "grep Cpus_allowed_list /proc/self/status; grep -c ' bind:0 ' /proc/self/numa_maps || true"
        let bound = try runCommand(numabalance, ["exec", "-N", "all", "-m", "0", "--", "/bin/sh", "-c", script])
        #expect(bound.status == 0, "\(bound.stderr)")
        #expect(bound.stdout.contains("Cpus_allowed_list:\t\(node0CPUs)\n"), "\(bound.stdout)")
        #expect((Int(bound.stdout.split(separator: "\n").last ?? "") ?? 0) > 0, "-m 0 binds: \(bound.stdout)")
        let interleaved = try runCommand(numabalance, ["exec", "-i", "all", "--", "/bin/sh", "-c",
                                                       "grep -c ' interleave:0 ' /proc/self/numa_maps"])
        #expect(interleaved.status == 0 && (Int(interleaved.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0,
                "\(interleaved.stdout) \(interleaved.stderr)")
        let preferred = try runCommand(numabalance, ["exec", "-p", "0", "--", "/bin/true"])
        #expect(preferred.status == 0, "\(preferred.stderr)")
        // "!0" on a one-node machine leaves nothing; node 7 is not there.
        let none = try runCommand(numabalance, ["exec", "-m", "!0", "--", "/bin/true"])
        #expect(none.status == 1 && none.stderr.contains("leaves no node"), "\(none.stderr)")
        let missing = try runCommand(numabalance, ["exec", "--membind", "0-1,7", "--", "/bin/true"])
        #expect(missing.status == 1 && missing.stderr.contains("no node 1"), "\(missing.stderr)")
        let garbage = try runCommand(numabalance, ["exec", "-m", "0-x", "--", "/bin/true"])
        #expect(garbage.status == 1 && garbage.stderr.contains("numactl's syntax"), "\(garbage.stderr)")
        let unknown = try runCommand(numabalance, ["exec", "-l", "--", "/bin/true"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown option -l"), "\(unknown.stderr)")
    }
}
