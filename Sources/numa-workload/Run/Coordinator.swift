// Scenarios with several processes: this process re-executes itself
// (posix_spawn of /proc/self/exe with the hidden `worker` role; never fork
// from Swift), waits until every worker is placed, then passes SIGTERM on
// and waits for them all.
import Glibc

struct Coordinator {
    /// Each worker's arguments after `numa-workload worker`.
    var workers: [[String]]

    /// Spawns the workers, calls `allReady` once each has said it is placed,
    /// then waits for them; returns 0 when all ended cleanly.
    func run(allReady: () -> Void) throws -> Int32 {
        let signals = StopSignals.block()
        var readyPipe: [Int32] = [0, 0]
        guard pipe(&readyPipe) == 0 else { throw WorkloadError("pipe", errno: errno) }
        // Only the dup2'd fd 3 should reach a worker.
        readyPipe.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        var children: [pid_t] = []
        for arguments in workers {
            do {
                children.append(try spawnWorker(arguments, readyDescriptor: readyPipe[1]))
            } catch {
                children.forEach { kill($0, SIGTERM) }
                throw error
            }
        }
        close(readyPipe[1])
        var running = Set(children)

        // Placed: one byte per worker on the pipe. A worker that dies first
        // (bad node, no memory) ends the scenario.
        var readyCount = 0
        while readyCount < children.count {
            var poller = pollfd(fd: readyPipe[0], events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 100) > 0 {
                var bytes = [UInt8](repeating: 0, count: 64)
                let n = bytes.withUnsafeMutableBytes { read(readyPipe[0], $0.baseAddress, $0.count) }
                if n > 0 { readyCount += n }
            }
            let ended = reap(&running)
            if ended.contains(where: { $0 != 0 }) || signals.wait(seconds: 0) != nil {
                return stop(running, readPipe: readyPipe[0])
            }
        }
        close(readyPipe[0])
        allReady()

        var failed = false
        while !running.isEmpty {
            if signals.wait(seconds: 0.2) != nil {
                running.forEach { kill($0, SIGTERM) }
            }
            failed = reap(&running).contains { $0 != 0 } || failed
        }
        return failed ? 1 : 0
    }

    /// Stops every worker after a failure or a signal during placement.
    private func stop(_ running: Set<pid_t>, readPipe: Int32) -> Int32 {
        close(readPipe)
        var remaining = running
        remaining.forEach { kill($0, SIGTERM) }
        while !remaining.isEmpty {
            usleep(50_000)
            _ = reap(&remaining)
        }
        return 1
    }

    /// Collects ended workers; returns their exit codes (128+n for a signal).
    private func reap(_ running: inout Set<pid_t>) -> [Int32] {
        var codes: [Int32] = []
        for pid in running {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { continue }
            running.remove(pid)
            // WIFEXITED and friends are macros Swift does not import.
            let signal = status & 0x7f
            codes.append(signal == 0 ? (status >> 8) & 0xff : 128 + signal)
        }
        return codes
    }

    /// `/proc/self/exe worker ARGS --parent PID --ready-fd 3`, with the ready
    /// pipe as fd 3 and default signal handling.
    private func spawnWorker(_ arguments: [String], readyDescriptor: Int32) throws -> pid_t {
        let argv = ["numa-workload", "worker"] + arguments + ["--parent", "\(getpid())", "--ready-fd", "3"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readyDescriptor, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

        let pointers = argv.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, pointers, environ)
        guard rc == 0 else { throw WorkloadError("posix_spawn of a worker", errno: rc) }
        return pid
    }
}
