// One guest run: prepare the work folder and its control share, start qemu,
// stream the command's output while the guest runs, and turn how it ended
// into numa-lab's exit code.
import Foundation
import Glibc

/// Exit codes numa-lab itself uses; anything else is the command's own.
enum LabExit {
    /// As timeout(1): the guest ran past --timeout.
    static let timedOut: Int32 = 124
    /// As timeout(1)'s own failure: the guest never ran the command to its end.
    static let labFailure: Int32 = 125
}

struct GuestRun {
    var topology: LabTopology
    var command: [String]
    var environment: [String: String]
    var timeoutSeconds: Double
    var outFolder: String?
    var consoleCopy: String?
    var extraKernelArguments: [String]
    var keepWorkFolder: Bool
    var verbose: Bool

    /// A boot that has not started the command by then is stalled, and is
    /// tried again, up to bootAttempts boots in all, within --timeout.
    static let bootTimeoutSeconds = 180.0
    static let bootAttempts = 2

    /// Runs the command in a fresh guest; returns the exit code numa-lab ends with.
    func execute() throws -> Int32 {
        let cache = LabCache.locate()
        let boot = try BootFiles.prepare(in: cache)
        let work = try cache.makeRunFolder()
        defer {
            if keepWorkFolder { note("work folder kept: \(work)") } else { try? FileManager.default.removeItem(atPath: work) }
        }
        let control = "\(work)/ctl"
        let out = outFolder ?? "\(work)/out"
        try makeFolder(control)
        if outFolder == nil || !fileExists(out) { try makeFolder(out) }
        // A working folder under /tmp and the like is bound back into the
        // guest's tmpfs (GuestPaths.keptFolders); other files there are not.

        let qemu = QemuCommand(topology: topology, kernelImage: boot.kernelImage, initramfs: boot.initramfs,
                               consoleLog: "\(work)/console.log", controlFolder: control, outFolder: out,
                               extraKernelArguments: extraKernelArguments)
        let start = Date()
        var outcome = GuestOutcome.bootStalled
        for attempt in 1...Self.bootAttempts {
            // Fresh control files each boot: no marker of the stalled one is left.
            for marker in ["booted", "started", "rc"] { try? FileManager.default.removeItem(atPath: "\(control)/\(marker)") }
            try writeControlFiles(in: control)
            let left = timeoutSeconds - Date().timeIntervalSince(start)
            guard left > 0 else { outcome = .timedOut(commandStarted: false); break }
            outcome = try GuestSession(work: work, control: control, qemu: qemu, timeoutSeconds: left,
                                       bootTimeoutSeconds: Self.bootTimeoutSeconds, verbose: verbose).run()
            guard outcome == .bootStalled, attempt < Self.bootAttempts else { break }
            note("boot \(attempt) had not started the command after \(Int(Self.bootTimeoutSeconds)) s (a stalled guest); "
                + "booting again")
            showTail(of: qemu.consoleLog, title: "kernel console", lines: 8)
        }
        if let consoleCopy {
            try? FileManager.default.removeItem(atPath: consoleCopy)
            try? FileManager.default.copyItem(atPath: qemu.consoleLog, toPath: consoleCopy)
        }
        return report(outcome, work: work, consoleLog: qemu.consoleLog)
    }

    private func writeControlFiles(in control: String) throws {
        let files = [
            "run.sh": GuestScripts.runner,
            "cmd": GuestScripts.commandScript(command),
            "cwd": FileManager.default.currentDirectoryPath,
            "env": GuestScripts.environmentScript(environment),
            "keep": GuestPaths.keptFolders(for: [FileManager.default.currentDirectoryPath] + command)
                .map { $0 + "\n" }.joined(),
            "stdout": "", "stderr": "",
        ]
        for (name, text) in files {
            try text.write(toFile: "\(control)/\(name)", atomically: false, encoding: .utf8)
        }
    }

    /// The command's exit code, or a lab failure explained with the tail of
    /// the kernel console (which is never shown when the command ran).
    private func report(_ outcome: GuestOutcome, work: String, consoleLog: String) -> Int32 {
        switch outcome {
        case .finished(let code):
            return code
        case .interrupted(let signal):
            note("interrupted (signal \(signal)); the guest was stopped")
            return 128 + signal
        case .timedOut(let commandStarted):
            let phase = commandStarted ? "while the command ran" : "before the command started (the guest did not boot in time)"
            note("timed out after \(Int(timeoutSeconds)) s \(phase); --timeout sets the limit")
            showTail(of: consoleLog, title: "kernel console")
            return LabExit.timedOut
        case .bootStalled:
            note("no boot of \(Self.bootAttempts) started the command within \(Int(Self.bootTimeoutSeconds)) s")
            showTail(of: consoleLog, title: "kernel console")
            return LabExit.labFailure
        case .failed(let reason):
            note(reason)
            showTail(of: "\(work)/qemu.log", title: "qemu")
            showTail(of: consoleLog, title: "kernel console")
            return LabExit.labFailure
        }
    }

    private func showTail(of path: String, title: String, lines: Int = 40) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else { return }
        let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
        note("last lines of the \(title) (\(path)):")
        FileHandle.standardError.write(Data((tail.joined(separator: "\n") + "\n").utf8))
    }
}

extension GuestRun {
    /// What the command sees: the host's PATH (its tools are where they are
    /// on the host), HOME in a tmpfs (the root is read-only), LAB_OUT, the
    /// host's NUMA_* and LAB_* variables, then every --env.
    static func guestEnvironment(topology: LabTopology, extra: [(String, String)]) -> [String: String] {
        let host = ProcessInfo.processInfo.environment
        var variables: [String: String] = [:]
        for (name, value) in host where (name.hasPrefix("NUMA_") || name.hasPrefix("LAB_")) && isShellName(name) {
            variables[name] = value
        }
        variables["PATH"] = host["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        variables["HOME"] = "/tmp"
        variables["LAB_OUT"] = GuestPaths.out
        variables["LAB_TOPOLOGY"] = topology.name
        for (name, value) in extra { variables[name] = value }
        return variables
    }
}
