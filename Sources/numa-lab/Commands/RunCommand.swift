// `numa-lab run --topology NAME -- COMMAND...`: one guest, one command.
import ArgumentParser
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot a guest with the given topology and run COMMAND in it as root.",
        discussion: """
            Prints the command's stdout and stderr as it runs and exits with its \
            exit code (124: timed out, 125: the guest failed). Inside, $LAB_OUT is \
            the folder whose files come back to --out and $LAB_TOPOLOGY names the \
            topology; PATH is the host's, HOME is /tmp, and the host's NUMA_* and \
            LAB_* variables are passed through. The kernel balancer is on \
            (kernel.numa_balancing=1), as the Debian kernel boots. A boot that has \
            not started the command after 180 s has stalled (it happens under TCG) \
            and is booted once more, within --timeout.
            """
    )

    @Option(help: ArgumentHelp("The guest's NUMA topology (see `numa-lab topologies`).",
                               valueName: "name"))
    var topology: String

    @Option(help: ArgumentHelp("Stop the guest after this many seconds, boot included.",
                               valueName: "seconds"))
    var timeout: Double = 900

    @Option(help: ArgumentHelp("Host folder that receives what the command writes under $LAB_OUT (created if missing).",
                               valueName: "dir"))
    var out: String?

    @Option(name: .customLong("env"),
            help: ArgumentHelp("Set a variable for the command (repeatable).", valueName: "name=value"))
    var variables: [String] = []

    @Option(help: ArgumentHelp("Copy the guest kernel's console log here after the run.",
                               valueName: "file"))
    var console: String?

    @Option(name: .customLong("kernel-arg"),
            help: ArgumentHelp("Add to the guest kernel's command line (repeatable), e.g. numa_balancing=disable.",
                               valueName: "arg"))
    var kernelArguments: [String] = []

    @Flag(help: "Boot systemd as PID 1 on a writable overlay of the host's root; COMMAND runs as a service once basic.target is up.")
    var systemd = false

    @Flag(help: "Keep the work folder (control share, console and qemu logs) and print its path.")
    var keep = false

    @Flag(name: .shortAndLong, help: "Print the qemu command line and when the command started.")
    var verbose = false

    @Argument(parsing: .postTerminator,
              help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        guard LabTopology.named(topology) != nil else {
            throw ValidationError("unknown topology '\(topology)'; known: \(LabTopology.all.map(\.name).joined(separator: ", "))")
        }
        guard !command.isEmpty else {
            throw ValidationError("give the command to run after --, e.g. numa-lab run --topology 2x2 -- numactl -H")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        for variable in variables {
            guard let name = variable.split(separator: "=", maxSplits: 1).first,
                  variable.contains("="), isShellName(String(name)) else {
                throw ValidationError("--env wants NAME=value, got '\(variable)'")
            }
        }
    }

    func run() throws {
        guard let shape = LabTopology.named(topology) else { throw ExitCode.validationFailure }
        let extra = variables.map { variable -> (String, String) in
            let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        let run = GuestRun(
            topology: shape, command: command,
            environment: GuestRun.guestEnvironment(topology: shape, extra: extra),
            timeoutSeconds: timeout, outFolder: out.map(absolutePath),
            consoleCopy: console.map(absolutePath),
            extraKernelArguments: (systemd ? GuestSystemd.kernelArguments : []) + kernelArguments,
            keepWorkFolder: keep, verbose: verbose)
        let code: Int32
        do {
            code = try run.execute()
        } catch let error as LabError {
            note(error.description)
            code = LabExit.labFailure
        }
        throw ExitCode(code)
    }

    private func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
