import ArgumentParser
import Foundation
import NUMADaemon
import NUMAPolicy
import NUMASystem

/// `numabalance run`: the daemon, in the foreground (systemd runs it so).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the balancing daemon in the foreground (as systemd's numabalance.service does).",
        discussion: """
            Balances every eligible process continuously: per-node sampler threads \
            measure where each process's pages live and where its threads run, at \
            each process's own scan period; the engine (or the process's policy) \
            decides; the actuator moves threads and memory within the MB/s budget, \
            journalled in the state folder.

            Reads \(DaemonConfig.defaultPath) (no file: defaults; `numabalance config \
            check` prints them all) and the policy folder it names. SIGHUP (or \
            `systemctl reload numabalance`) reloads both: a bad file is logged with \
            file:line:column and the running settings stay. SIGTERM ends the batch \
            in flight and exits 0. Talks to systemd through $NOTIFY_SOCKET \
            (Type=notify: READY, STATUS, RELOADING, STOPPING, WATCHDOG).

            Mode: standalone when kernel.numa_balancing is 0 or 2 (tiering only: \
            the kernel then leaves pages between DRAM nodes alone), else hybrid (the \
            kernel keeps placing pages per thread). kernelBalancing: disable sets it \
            to 0 while running and restores it at exit, or at the next start after \
            a crash; under systemd the unit does both instead (ExecStartPre=+ \
            `numabalance prepare --kernel-balancing`, ExecStopPost=+ `numabalance \
            restore --kernel-balancing`), and the daemon finds it done.

            Needs root, or: CAP_SYS_PTRACE (other users' processes), CAP_SYS_NICE \
            (shared pages, others' affinity), CAP_CHECKPOINT_RESTORE with \
            CAP_DAC_READ_SEARCH (shared memory, SysV segments too, through \
            map_files, another user's folder being mode 0500) and, \
            with kernelBalancing: disable and no unit to prepare it, CAP_SYS_ADMIN. It drops every other \
            capability at start and sets no_new_privs.

              numabalance run
              numabalance run --config ./test.yaml --dry-run
              numabalance status

            Exit status: 0 after SIGTERM/SIGINT; 1 when it cannot start (bad \
            config, another instance running, a capability missing); 2 on a usage error.
            """
    )

    @Option(help: ArgumentHelp("The config file (default \(DaemonConfig.defaultPath); absent: defaults).",
                               valueName: "file"))
    var config: String?

    @Flag(help: "Decide and log, change nothing (overrides dryRun in the config).")
    var dryRun = false

    @Option(help: ArgumentHelp("What to do with kernel.numa_balancing: leave, warn or disable (overrides the config).",
                               valueName: "leave|warn|disable"))
    var kernelBalancing: String?

    @Option(help: ArgumentHelp("Journal, lock and saved sysctl value (overrides stateDirectory).", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("The control socket's folder (overrides runtimeDirectory).", valueName: "dir"))
    var runtimeDir: String?

    @Option(help: ArgumentHelp("Policy files (overrides policyDirectory).", valueName: "dir"))
    var policyDir: String?

    func validate() throws {
        if let kernelBalancing, KernelBalancing(rawValue: kernelBalancing) == nil {
            throw ValidationError("--kernel-balancing must be leave, warn or disable, not \"\(kernelBalancing)\"")
        }
    }

    func run() throws {
        let source = SettingsSource(
            configPath: config, dryRun: dryRun ? true : nil, kernelBalancing: kernelBalancing.flatMap(KernelBalancing.init),
            stateDirectory: stateDir, runtimeDirectory: runtimeDir, policyDirectory: policyDir)
        let status = Daemon.run(source: source)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `numabalance status`: what the running daemon is doing.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the running daemon does: mode, totals, and per process locality and last decision.",
        discussion: """
            Asks the daemon over its control socket (root only, in the config's \
            runtimeDirectory, /run/numabalance by default). Per process: policy and \
            mode, locality (page share × CPU share summed over nodes), preferred \
            node, scan period, group, the last action and the reason for it, and a \
            note when its locality stays below the target for a known reason.

              numabalance status
              numabalance status --json | jq '.processes[] | select(.locality < 0.9)'
              numabalance status --metrics
              numabalance status --time > /dev/null     (how long the daemon took to answer)

            Exit status: 0; 1 when no daemon answers (said plainly); 2 on a usage error.
            """
    )

    @Flag(help: "JSON instead of text.")
    var json = false

    @Flag(help: "The Prometheus metrics instead (text exposition format).")
    var metrics = false

    @Flag(help: ArgumentHelp(
        "Also say on standard error how long the daemon took to answer (the control socket's round trip).",
        discussion: "A slow answer means a busy or stuck balancing loop; this program's own start is not counted."))
    var time = false

    @Option(help: ArgumentHelp("The config file naming runtimeDirectory.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("The control socket's folder (overrides the config).", valueName: "dir"))
    var runtimeDir: String?

    func run() throws {
        let directory: String
        if let runtimeDir { directory = runtimeDir } else {
            do { directory = try DaemonConfig.load(path: config).config.runtimeDirectory } catch {
                throw CommandError("cannot read the config:\n\(error)")
            }
        }
        let client = ControlClient(runtimeDirectory: directory)
        do {
            let asked = Clock.monotonicSeconds()
            let answer = try client.send(metrics ? .metrics : json ? .statusJSON : .status)
            let seconds = Clock.monotonicSeconds() - asked
            print(answer, terminator: "")
            if time { FileHandle.standardError.write(Data("answered in \(String(format: "%.3f", seconds)) s\n".utf8)) }
        } catch {
            throw CommandError(error.description)
        }
    }
}
