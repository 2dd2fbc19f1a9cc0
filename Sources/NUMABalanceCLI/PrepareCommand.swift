import ArgumentParser
import Foundation
import NUMADaemon
import NUMAPolicy
import NUMASystem

/// `numabalance prepare --kernel-balancing`: the unit's ExecStartPre=+, the
/// other half of `restore --kernel-balancing` (its ExecStopPost=+).
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Before the service starts: turn kernel.numa_balancing off for it (kernelBalancing: disable).",
        discussion: """
            Run by numabalance.service as `ExecStartPre=+`, with full privileges, \
            before the daemon starts: with `kernelBalancing: disable` in the \
            config, saves kernel.numa_balancing in /run/numabalance (marked as the \
            service's) and writes 0. The daemon then finds the kernel balancer \
            off and never writes /proc/sys itself, so the unit runs it with \
            ProtectKernelTunables=yes and without CAP_SYS_ADMIN. The unit's \
            `ExecStopPost=+numabalance restore --kernel-balancing` writes the \
            value back after every stop, a crash or SIGKILL included.

            With `leave` or `warn`, nothing is done. Read the same config as \
            ExecStart= does: a drop-in that adds --config to one adds it to both.

              numabalance prepare --kernel-balancing
              numabalance prepare --kernel-balancing --config /etc/numabalance/numabalance.yaml

            Exit status: 0 when done (or nothing to do); 1 when the config cannot \
            be read, another daemon runs, or the sysctl cannot be saved or written.
            """
    )

    @Flag(help: "Save kernel.numa_balancing and write 0 if the config says `kernelBalancing: disable`.")
    var kernelBalancing = false

    @Option(help: ArgumentHelp("The config file (default \(DaemonConfig.defaultPath); absent: defaults).",
                               valueName: "file"))
    var config: String?

    func validate() throws {
        guard kernelBalancing else {
            throw ValidationError("say what to prepare: --kernel-balancing (the only thing there is)")
        }
        guard Host.isRoot else {
            throw ValidationError("prepare --kernel-balancing writes /proc/sys and /run/numabalance: run it as root")
        }
    }

    func run() throws {
        let setting: KernelBalancing
        do { setting = try DaemonConfig.load(path: config, rule: .forThisProcess).config.kernelBalancing } catch {
            throw CommandError("not prepared; fix these first:\n\(error)")
        }
        switch HostState().prepareForService(setting) {
        case .success(let done): print(done)
        case .failure(let error): throw CommandError(error.description)
        }
    }
}
