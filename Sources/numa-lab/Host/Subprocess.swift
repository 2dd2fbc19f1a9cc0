// Child processes through posix_spawn, started from the calling thread.
// numa-lab stays single-threaded on purpose: qemu's parent-death signal is
// tied to the thread that spawned it, and the main thread lives as long as
// numa-lab does.
import Glibc

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// How a child ended.
enum Termination: Equatable {
    case exited(Int32)
    case signalled(Int32)

    init(waitStatus status: Int32) {
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    var succeeded: Bool { self == .exited(0) }
}

struct Subprocess {
    let pid: pid_t

    /// Where a child's standard stream goes.
    enum Stream {
        case inherit
        case null
        case file(String)
        case descriptor(Int32)
    }

    /// Starts `argv` (looked up in PATH) with default signal dispositions and an
    /// empty signal mask, whatever numa-lab itself blocks.
    static func spawn(_ argv: [String], stdout: Stream = .inherit, stderr: Stream = .inherit,
                      directory: String? = nil, environment: [String]? = nil,
                      ownProcessGroup: Bool = false) throws -> Subprocess {
        // glibc's addchdir_np is not imported; a shell changes folder, then execs.
        let argv = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + argv } ?? argv
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, stream) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch stream {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if ownProcessGroup {
            // Keeps a terminal's Ctrl-C away from qemu: numa-lab decides how it ends.
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var pid = pid_t()
        let rc = withCStrings(argv) { cArgv in
            if let environment {
                return withCStrings(environment) { posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, $0) }
            }
            return posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, environ)
        }
        guard rc == 0 else {
            throw LabError("cannot start \(argv[0]): \(errnoText(rc))")
        }
        return Subprocess(pid: pid)
    }

    /// Blocks until the child ends. Wraps waitpid(2), retrying EINTR.
    func wait() -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(255) }
        }
        return Termination(waitStatus: status)
    }

    /// The child's end if it has ended, without blocking.
    func poll() -> Termination? {
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        return rc == pid ? Termination(waitStatus: status) : nil
    }

    func send(_ signal: Int32) { kill(pid, signal) }
}

extension Subprocess {
    /// Runs `argv` to its end and returns how it ended with everything it
    /// printed (stdout and stderr together), for messages when it fails.
    static func capture(_ argv: [String], directory: String? = nil,
                        environment: [String]? = nil) throws -> (Termination, String) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw LabError("pipe: \(errnoText(errno))") }
        let child: Subprocess
        do {
            child = try spawn(argv, stdout: .descriptor(fds[1]), stderr: .descriptor(fds[1]),
                              directory: directory, environment: environment)
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if count > 0 { output += buffer[0..<count]; continue }
            if count < 0 && errno == EINTR { continue }
            break
        }
        close(fds[0])
        return (child.wait(), String(decoding: output, as: UTF8.self))
    }

    /// Runs `argv` and throws, with its output, unless it succeeds.
    @discardableResult
    static func check(_ argv: [String], directory: String? = nil,
                      environment: [String]? = nil) throws -> String {
        let (termination, output) = try capture(argv, directory: directory, environment: environment)
        guard termination.succeeded else {
            throw LabError("\(argv.joined(separator: " ")) failed (\(termination)):\n\(output)")
        }
        return output
    }
}

/// NUL-terminated C strings for `strings`, valid inside `body` only.
func withCStrings<R>(_ strings: [String],
                     _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}

/// strerror(3) as a String.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(decoding: UnsafeRawBufferPointer(start: text, count: strlen(text)), as: UTF8.self)
}
