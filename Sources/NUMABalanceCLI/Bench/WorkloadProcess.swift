import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child started with posix_spawn, stdout to `stdout` when given (else
/// inherited). Not Foundation's Process: in a lab guest its run loop's
/// CFSocket could not be made and the benchmark hung.
struct SpawnedChild {
    let pid: pid_t

    init(_ path: String, _ arguments: [String], stdout: Int32? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        // This process blocks signals on some threads; the child must not
        // inherit that, or SIGTERM never stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), term = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&term)
        sigaddset(&term, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &term)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw CommandError("cannot start \(path): \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// SIGTERM, then reaps it.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

/// A numa-workload started for a benchmark: waits for its `ready pid=N`
/// line and kills it when done.
final class WorkloadProcess {
    private let child: SpawnedChild
    private(set) var pid: Int32 = 0
    /// The read end stays open until stop: a later line must not meet SIGPIPE.
    private let output: Int32

    /// numa-workload sits beside numabalance in a build folder.
    static func executable() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("numa-workload").path
    }

    init(arguments: [String], path: String = WorkloadProcess.executable()) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CommandError("\(path) not found: build it first (swift build -c release)")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CommandError("pipe: \(String(cString: strerror(errno)))") }
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }   // dup2 clears it on the child's stdout
        output = fds[0]
        do { child = try SpawnedChild(path, arguments, stdout: fds[1]) } catch { close(fds[0]); close(fds[1]); throw error }
        close(fds[1])
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while pid == 0 {
            let n = read(output, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { stop(); throw CommandError("numa-workload exited before it was ready") }
            buffer.append(contentsOf: chunk[0..<n])
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n")
            where line.hasPrefix("ready pid=") {
                let digits = line.dropFirst("ready pid=".count).prefix { $0.isNumber }
                pid = Int32(digits) ?? 0
            }
        }
    }

    func stop() {
        child.stop()
        close(output)
    }
}
