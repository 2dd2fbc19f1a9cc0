import Foundation
import Glibc
import Testing

/// `numabalance policy plan|apply|list|remove` and `exec --policy`, run as
/// the built binary on this machine, with temporary policy and runtime folders.
@Suite("policy plan, apply, list, remove and exec --policy", .serialized)
struct PolicyCommandTests {
    let numabalance = builtExecutable("numabalance")

    /// A fresh folder under /tmp (short: it may hold a unix socket).
    func folder() throws -> String {
        var template = Array("/tmp/nbpol.XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw LabelledError("mkdtemp failed")
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode_t(mode))
    }

    func policy(name: String, comm: String, mode: String = "pin", nodes: String = "[0]") -> String {
        """
        apiVersion: numabalance/v1
        kind: Policy
        name: \(name)
        match:
          comm: [\(comm)]
        placement:
          mode: \(mode)
          nodes: \(nodes)

        """
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// "Cpus_allowed_list:\t1" → "1".
    func cpusAllowed(_ pid: pid_t) -> String {
        read("/proc/\(pid)/status").split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
            .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// Each mapping's address and memory policy from numa_maps.
    func policies(_ pid: pid_t) -> [String] {
        read("/proc/\(pid)/numa_maps").split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
    }

    var node0CPUs: String { read("/sys/devices/system/node/node0/cpulist").trimmingCharacters(in: .whitespacesAndNewlines) }

    /// A copy of sleep under a name no other process has, started on the last CPU of node 0 only.
    func startNamedSleeper(in dir: String) throws -> (pid: pid_t, comm: String) {
        let comm = "nbp" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let path = dir + "/" + comm
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: path)
        let lastCPU = expandList(node0CPUs).split(separator: ",").last.map(String.init) ?? "0"
        let pid = try spawn("/usr/bin/taskset", ["-c", lastCPU, path, "120"])
        for _ in 0..<200 where read("/proc/\(pid)/comm").trimmingCharacters(in: .whitespacesAndNewlines) != comm {
            usleep(10_000)
        }
        #expect(read("/proc/\(pid)/comm").hasPrefix(comm))
        return (pid, comm)
    }

    // MARK: plan

    @Test("plan: names the matched pid and the action, and changes nothing")
    func planChangesNothing() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (pid, comm) = try startNamedSleeper(in: dir)
        defer { reap(pid) }
        let file = dir + "/pin.yaml"
        try write(policy(name: "test-pin", comm: comm), to: file)
        let affinityBefore = cpusAllowed(pid)
        let mapsBefore = policies(pid)

        let result = try runCommand(numabalance, ["policy", "plan", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("policy test-pin (pin → node 0) matches 1 process"), "\(result.stdout)")
        let line = result.stdout.split(separator: "\n").first { $0.contains("pid \(pid) \(comm)") }
        let planned = try #require(line, "\(result.stdout)")
        if expandList(node0CPUs).contains(",") {
            // Started on one CPU of node 0: the pin widens it to all of node 0's CPUs.
            #expect(planned.contains("set affinity to node 0 CPUs \(node0CPUs)"), "\(planned)")
            #expect(result.stdout.contains("[policy-pin] policy test-pin pins it to node 0"))
        }
        #expect(!result.stdout.contains("default (auto"), "the built-in default's processes are left out")

        // Nothing changed: affinity and memory policies as before.
        #expect(cpusAllowed(pid) == affinityBefore)
        #expect(policies(pid) == mapsBefore)
        #expect(!policies(pid).contains { $0.contains("bind") })

        let json = try runCommand(numabalance, ["policy", "plan", file, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let root = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let entries = try #require(root["policies"] as? [[String: Any]])
        let processes = try #require(entries.first?["processes"] as? [[String: Any]])
        let mine = try #require(processes.first { $0["pid"] as? Int == Int(pid) })
        #expect(mine["treatment"] as? String == "plan")
        #expect(mine.keys.contains("locality"))
        #expect(cpusAllowed(pid) == affinityBefore)
    }

    @Test("plan: auto and ignore say what the daemon does; --all adds the built-in default")
    func planAutoIgnore() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (pid, comm) = try startNamedSleeper(in: dir)
        defer { reap(pid) }
        let file = dir + "/auto.yaml"
        try write("""
            apiVersion: numabalance/v1
            kind: Policy
            name: test-auto
            match:
              comm: [\(comm)]
            placement:
              mode: auto

            """, to: file)
        let result = try runCommand(numabalance, ["policy", "plan", file, "--all", "--interval", "0.1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pid \(pid) \(comm)  → balanced by the daemon's engine at its scan period"),
                "\(result.stdout)")
        #expect(result.stdout.contains("policy default (auto, built-in)"))
        #expect(result.stdout.contains("pid 1 ") && result.stdout.contains("never acted on"))
    }

    @Test("plan: a broken file is reported as file:line:column, exit 1")
    func planBroken() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/broken.yaml"
        try write(policy(name: "x", comm: "x").replacingOccurrences(of: "  nodes:", with: "  nodez:"), to: file)
        let result = try runCommand(numabalance, ["policy", "plan", file])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(file):8:3: placement.nodez: unknown key \"nodez\""), "\(result.stderr)")
    }

    // MARK: apply, list, remove

    @Test("apply with no daemon: installed, 0644, says so; list shows it; remove removes it")
    func applyListRemove() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policies = dir + "/policies.d"
        let runtime = dir + "/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        let source = dir + "/50-pin"
        try write(policy(name: "test-pin", comm: "nbp-none"), to: source)

        let apply = try runCommand(numabalance, ["policy", "apply", source, "--policy-dir", policies,
                                                 "--runtime-dir", runtime])
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.contains("no numabalance daemon is running"), "\(apply.stdout)")
        let installed = policies + "/50-pin.yaml"
        #expect(read(installed) == read(source))
        let attributes = try FileManager.default.attributesOfItem(atPath: installed)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        // No temporary file left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: policies) == ["50-pin.yaml"])

        let list = try runCommand(numabalance, ["policy", "list", "--policy-dir", policies])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("50-pin.yaml"))
        #expect(list.stdout.contains("test-pin") && list.stdout.contains("pin → node 0"), "\(list.stdout)")
        #expect(list.stdout.contains("comm nbp-none"))

        let json = try runCommand(numabalance, ["policy", "list", "--policy-dir", policies, "--json"])
        let root = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(root["valid"] as? Bool == true)
        let files = try #require(root["files"] as? [[String: Any]])
        #expect(files.map { $0["file"] as? String } == ["50-pin.yaml"])

        let remove = try runCommand(numabalance, ["policy", "remove", "test-pin", "--policy-dir", policies,
                                                  "--runtime-dir", runtime])
        #expect(remove.status == 0, "\(remove.stderr)")
        #expect(!FileManager.default.fileExists(atPath: installed))
        let again = try runCommand(numabalance, ["policy", "remove", "test-pin", "--policy-dir", policies,
                                                 "--runtime-dir", runtime])
        #expect(again.status == 1)
        #expect(again.stderr.contains("no policy or policy file named test-pin"))
    }

    @Test("apply refuses a group-writable file, a file not root's, a node not here and a broken one: nothing installed")
    func applyRefuses() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policies = dir + "/policies.d"
        let runtime = dir + "/run"
        let writable = dir + "/writable.yaml"
        try write(policy(name: "test-pin", comm: "x"), to: writable, mode: 0o664)
        let refused = try runCommand(numabalance, ["policy", "apply", writable, "--policy-dir", policies,
                                                   "--runtime-dir", runtime])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("writable by its group"), "\(refused.stderr)")
        #expect(refused.stderr.contains("decides what a root daemon does to every process"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: policies + "/writable.yaml"))

        // Not root's: given to nobody when the test runs as root (CI); any other user's file already is not.
        let foreign = dir + "/foreign.yaml"
        try write(policy(name: "test-pin", comm: "x"), to: foreign)
        if getuid() == 0 { #expect(chown(foreign, 65534, 65534) == 0) }
        let notRoots = try runCommand(numabalance, ["policy", "apply", foreign, "--policy-dir", policies,
                                                    "--runtime-dir", runtime])
        #expect(notRoots.status == 1)
        #expect(notRoots.stderr.contains("refusing \(foreign): it is owned by uid"), "\(notRoots.stderr)")
        #expect(notRoots.stderr.contains("not root"), "\(notRoots.stderr)")
        #expect(!FileManager.default.fileExists(atPath: policies + "/foreign.yaml"))

        // A node this machine does not have: its daemon would refuse the set, so nothing is installed.
        let elsewhere = dir + "/elsewhere.yaml"
        try write(policy(name: "test-pin", comm: "x", nodes: "[63]"), to: elsewhere)
        let absent = try runCommand(numabalance, ["policy", "apply", elsewhere, "--policy-dir", policies,
                                                  "--runtime-dir", runtime])
        #expect(absent.status == 1)
        #expect(absent.stderr.contains("\(elsewhere):8:11: placement.nodes[0]: node 63 does not exist on this machine"),
                "\(absent.stderr)")
        #expect(!FileManager.default.fileExists(atPath: policies + "/elsewhere.yaml"))

        let broken = dir + "/broken.yaml"
        try write(policy(name: "test-pin", comm: "x").replacingOccurrences(of: "  nodes:", with: "  nodez:"),
                  to: broken)
        let bad = try runCommand(numabalance, ["policy", "apply", broken, "--policy-dir", policies,
                                               "--runtime-dir", runtime])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\(broken):8:3: placement.nodez"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: policies + "/broken.yaml"))

        // A catch-all that would sort before an installed policy: refused as a set.
        let good = dir + "/50-good.yaml"
        try write(policy(name: "good", comm: "x"), to: good)
        #expect(try runCommand(numabalance, ["policy", "apply", good, "--policy-dir", policies,
                                             "--runtime-dir", runtime]).status == 0)
        let catchAll = dir + "/10-all.yaml"
        try write("""
            apiVersion: numabalance/v1
            kind: Policy
            name: everything
            match:
              all: true
            placement:
              mode: auto

            """, to: catchAll)
        let hiding = try runCommand(numabalance, ["policy", "apply", catchAll, "--policy-dir", policies,
                                                  "--runtime-dir", runtime])
        #expect(hiding.status == 1)
        #expect(hiding.stderr.contains("takes every process"), "\(hiding.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: policies) == ["50-good.yaml"])
    }

    @Test("remove refuses one policy of a file that holds several")
    func removeOneOfSeveral() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/two.yaml"
        try write(policy(name: "first", comm: "a") + "---\n" + policy(name: "second", comm: "b"), to: source)
        let policies = dir + "/p"
        #expect(try runCommand(numabalance, ["policy", "apply", source, "--policy-dir", policies,
                                             "--runtime-dir", dir]).status == 0)
        let result = try runCommand(numabalance, ["policy", "remove", "second", "--policy-dir", policies,
                                                  "--runtime-dir", dir])
        #expect(result.status == 1)
        #expect(result.stderr.contains("two.yaml") && result.stderr.contains("edit it"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: policies + "/two.yaml"))
    }

    @Test("apply with a daemon: the reload's generation and files are confirmed; a refusal exits 1")
    func applyReloads() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policies = dir + "/p"
        let source = dir + "/60-pin.yaml"
        try write(policy(name: "test-pin", comm: "x"), to: source)
        let installed = policies + "/60-pin.yaml"

        let accepted = try FakeDaemon(folder: dir, reply:
            #"{"ok":true,"generation":7,"errors":[],"policyFiles":["\#(installed)"]}"#)
        let ok = try runCommand(numabalance, ["policy", "apply", source, "--policy-dir", policies,
                                              "--runtime-dir", dir])
        accepted.finish()
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("policy generation 7 active: 60-pin.yaml"), "\(ok.stdout)")
        #expect(accepted.requests == ["reload"])

        let refused = try FakeDaemon(folder: dir, reply:
            #"{"ok":false,"generation":7,"errors":["p/60-pin.yaml:1:1: something"],"policyFiles":[]}"#)
        let no = try runCommand(numabalance, ["policy", "apply", source, "--policy-dir", policies,
                                              "--runtime-dir", dir])
        refused.finish()
        #expect(no.status == 1)
        #expect(no.stderr.contains("p/60-pin.yaml:1:1: something"), "\(no.stderr)")
        #expect(no.stderr.contains("keeps its previous policies (generation 7)"))
    }
}

/// A control socket answering one request with a fixed reply, as the daemon would.
final class FakeDaemon: Sendable {
    /// What the serving thread shares with the test.
    final class Exchange: @unchecked Sendable {
        let lock = NSLock()
        var received: [String] = []
        let done = DispatchSemaphore(value: 0)
    }

    let listener: Int32
    let exchange = Exchange()

    var requests: [String] { exchange.lock.withLock { exchange.received } }

    init(folder: String, reply: String) throws {
        let path = folder + "/control.sock"
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = listener
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw LabelledError("cannot listen on \(path)") }
        let exchange = self.exchange
        Thread.detachNewThread {
            defer { exchange.done.signal() }
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            let line = String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self).trimmingCharacters(in: .newlines)
            exchange.lock.withLock { exchange.received.append(line) }
            let answer = Array(reply.utf8)
            _ = answer.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            close(connection)
        }
    }

    /// Waits for the one request (at most 10 s), then closes the socket.
    func finish() {
        _ = exchange.done.wait(timeout: .now() + 10)
        close(listener)
    }
}
