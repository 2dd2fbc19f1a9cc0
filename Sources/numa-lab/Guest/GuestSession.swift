// The running guest: qemu under a parent-death signal, the command's output
// streamed from the control share as it grows, and the end (exit code,
// timeout, signal, crash) told apart by the marker files the guest writes.
import Foundation
import Glibc

enum GuestOutcome: Equatable {
    case finished(Int32)
    case interrupted(Int32)
    case timedOut(commandStarted: Bool)
    /// The command had not started by the boot deadline: a boot that stalls
    /// under TCG (an RCU stall on one vCPU, timers that stop) never recovers.
    case bootStalled
    case failed(String)
}

struct GuestSession {
    var work: String
    var control: String
    var qemu: QemuCommand
    var timeoutSeconds: Double
    /// The command must have started by then (a boot takes about 5 s).
    var bootTimeoutSeconds: Double
    var verbose: Bool

    /// How long qemu may take to power off after the command's exit code is written.
    static let powerOffGrace = 10.0
    static let pollInterval = 0.1

    func run() throws -> GuestOutcome {
        let signals = ShutdownSignals.block()
        guard let qemuBinary = findExecutable("qemu-system-x86_64") else {
            return .failed("qemu-system-x86_64 not found (package qemu-system-x86)")
        }
        let argv = Self.underParentDeathSignal([qemuBinary] + qemu.arguments)
        if verbose { note("starting " + argv.map(shellQuoted).joined(separator: " ")) }
        let started = Date()
        let child = try Subprocess.spawn(argv, stdout: .file("\(work)/qemu.log"),
                                         stderr: .file("\(work)/qemu.log"), ownProcessGroup: true)
        let stdout = StreamedFile(path: "\(control)/stdout", target: STDOUT_FILENO)
        let stderr = StreamedFile(path: "\(control)/stderr", target: STDERR_FILENO)
        var commandStarted = false
        var exitCodeSeen: Date?

        func stop(_ outcome: GuestOutcome) -> GuestOutcome {
            child.send(SIGKILL)
            _ = child.wait()
            stdout.pump()
            stderr.pump()
            return outcome
        }

        while true {
            stdout.pump()
            stderr.pump()
            if !commandStarted && fileExists("\(control)/started") {
                commandStarted = true
                if verbose { note(String(format: "command started %.1f s after qemu", Date().timeIntervalSince(started))) }
            }
            if let termination = child.poll() {
                stdout.pump()
                stderr.pump()
                return ended(termination, commandStarted: commandStarted)
            }
            if let signal = signals.wait(seconds: Self.pollInterval) {
                return stop(.interrupted(signal))
            }
            if Date().timeIntervalSince(started) > timeoutSeconds {
                return stop(.timedOut(commandStarted: commandStarted))
            }
            if !commandStarted && Date().timeIntervalSince(started) > bootTimeoutSeconds {
                return stop(.bootStalled)
            }
            if let code = exitCode() {
                // The command is done; a guest that does not power off is not waited for.
                let seen = exitCodeSeen ?? Date()
                exitCodeSeen = seen
                if Date().timeIntervalSince(seen) > Self.powerOffGrace { return stop(.finished(code)) }
            }
        }
    }

    private func ended(_ termination: Termination, commandStarted: Bool) -> GuestOutcome {
        if let code = exitCode() { return .finished(code) }
        if commandStarted {
            return .failed("the guest stopped before the command finished (kernel panic, OOM of the runner, or poweroff); qemu ended with \(termination)")
        }
        if fileExists("\(control)/booted") {
            return .failed("the guest booted but could not start the command (see the console below)")
        }
        return .failed("the guest failed to boot; qemu ended with \(termination)")
    }

    private func exitCode() -> Int32? {
        guard let text = try? String(contentsOfFile: "\(control)/rc", encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// qemu must not outlive numa-lab even when numa-lab is SIGKILLed:
    /// util-linux's setpriv sets PR_SET_PDEATHSIG and then execs qemu (same
    /// pid). The signal follows the spawning thread, numa-lab's main thread.
    static func underParentDeathSignal(_ argv: [String]) -> [String] {
        guard let setpriv = findExecutable("setpriv") else {
            note("setpriv not found (util-linux): qemu would survive a SIGKILL of numa-lab")
            return argv
        }
        return [setpriv, "--pdeathsig", "KILL", "--"] + argv
    }
}

extension Termination: CustomStringConvertible {
    var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signalled(let signal): "signal \(signal)"
        }
    }
}

/// A file the guest appends to, copied to one of numa-lab's own streams as it grows.
final class StreamedFile {
    let path: String
    let target: Int32
    private var descriptor: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(path: String, target: Int32) {
        self.path = path
        self.target = target
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Copies every byte written since the last call.
    func pump() {
        if descriptor < 0 { descriptor = open(path, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { return }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            buffer.withUnsafeBytes { writeAll(target, $0.baseAddress, count) }
        }
    }
}

/// write(2) until all `count` bytes are out (a pipe may take fewer).
func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) {
    guard let bytes else { return }
    var done = 0
    while done < count {
        let n = write(fd, bytes + done, count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        done += n
    }
}

/// SIGINT, SIGTERM and SIGHUP held pending, and taken synchronously between
/// polls: no handler runs concurrently with the loop, and qemu is always
/// killed before numa-lab exits.
struct ShutdownSignals {
    private var set = sigset_t()

    static func block() -> ShutdownSignals {
        var signals = ShutdownSignals()
        sigemptyset(&signals.set)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals.set, signal) }
        pthread_sigmask(SIG_BLOCK, &signals.set, nil)
        return signals
    }

    /// A pending signal, waiting at most `seconds` for one. Wraps sigtimedwait(2).
    func wait(seconds: Double) -> Int32? {
        var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var set = self.set
        let signal = sigtimedwait(&set, nil, &timeout)
        return signal > 0 ? signal : nil
    }
}
