import ArgumentParser
import Foundation
import NUMABalancing
import NUMAActuation
import NUMAModel
import NUMASystem

/// `numabalance rebalance <pid>`: sample one process twice, decide with the
/// engine, act, and report what was done and why.
struct RebalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebalance",
        abstract: "Sample one process, decide where its threads and memory belong, and move them.",
        discussion: """
            Two sampling rounds about a second apart through the engine: threads may \
            move after the first (affinity needs no filter), memory after the second \
            (the two-stage filter acts only on what it saw twice; a third round when \
            it still holds back a good part of the memory). The engine's plan for \
            this process is carried out: threads moved with sched_setaffinity (a pin set by the \
            user is respected: then memory follows the threads), pages moved with \
            move_pages in batches of at most a second of --max-rate, or with one \
            migrate_pages call when the whole move fits a second of it; shared \
            objects get a memory policy with mbind (MPOL_PREFERRED, existing pages \
            moved with MPOL_MF_MOVE_ALL), so later faults by every process follow; a \
            process that does not fit one node gets its memory interleaved over its \
            threads' nodes. The mode follows \
            kernel.numa_balancing: 0 is standalone (numabalance places pages too), \
            otherwise hybrid (the kernel's balancer places private pages).

            Locality is re-sampled afterwards. Every action is journalled (JSON \
            lines, fsync) with what it replaced, in /var/lib/numabalance for root \
            (--state-dir to change it), else $NUMABALANCE_STATE_DIR or \
            ~/.local/state/numabalance; \
            `numabalance restore` undoes affinity and policy changes.

            Permissions: your own processes need nothing; another user's need \
            CAP_SYS_PTRACE (pages) and CAP_SYS_NICE (affinity); shared objects need \
            CAP_SYS_NICE (MPOL_MF_MOVE_ALL) and CAP_CHECKPOINT_RESTORE \
            or CAP_SYS_ADMIN (/proc/PID/map_files), with CAP_DAC_READ_SEARCH for \
            another user's. A missing one is named.

            Exit status:
              0  done, or nothing to do
              1  error: no such process, not permitted, a refused target (pid 1, a kernel thread)
              2  usage error
              3  partial: some pages could not be moved (the report says which and why)
              4  the process exited during the move
            """
    )

    @Argument(help: "The process to rebalance.")
    var pid: Int32

    @Flag(name: .customLong("dry-run"), help: "Decide and report what would be done; change nothing.")
    var dryRun = false

    @Option(name: .customLong("to"), help: ArgumentHelp("Move the process to this node instead of the engine's choice.", valueName: "node"))
    var toNode: Int?

    @Option(name: .customLong("max-rate"), help: ArgumentHelp("Migration budget in MiB/s.", valueName: "MBPS"))
    var maxRate = 1024.0

    @Option(help: "Seconds between the two sampling rounds.")
    var interval = 1.0

    @Option(name: .customLong("state-dir"), help: "Folder of the journal (default: see above).")
    var stateDirectory: String?

    @Flag(help: "Print JSON: pid, before.locality, after.locality, bytesMoved, actions[{kind, reason, …}], …")
    var json = false

    func run() async throws {
        // Usage problems exit 2, as documented (ArgumentParser's own parse errors exit 64).
        if let problem = usageProblem() {
            FileHandle.standardError.write(Data("Error: \(problem)\n\(Self.helpMessage())\n".utf8))
            throw ExitCode(2)
        }
        // A progress line only on a terminal (stderr).
        var makeProgress: (@Sendable () -> any MoveProgressSink)?
        if Host.isTerminal(2) { makeProgress = { ProgressLine() } }
        let session = RebalanceSession(
            pid: pid, dryRun: dryRun, toNode: toNode.map { NodeID($0) },
            bytesPerSecond: maxRate * 1024 * 1024, interval: interval,
            journalDirectory: stateDirectory ?? Journal.defaultDirectory(),
            makeProgress: makeProgress, stop: InterruptStop.shared.install())
        let report: RebalanceReport
        do {
            report = try await session.run()
        } catch let error as RebalanceFailure {
            if json {
                try Output.printJSON(RebalanceReport.failure(pid: pid, error: error.description, exitCode: 1))
            } else {
                FileHandle.standardError.write(Data("numabalance rebalance: \(error.description)\n".utf8))
            }
            throw ExitCode(1)
        }
        if json {
            try Output.printJSON(report)
        } else {
            print(report.text)
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    private func usageProblem() -> String? {
        if pid <= 0 { return "the pid must be positive" }
        if !(maxRate > 0) { return "--max-rate must be positive" }
        if !(interval > 0 && interval <= 60) { return "--interval must be between 0 and 60 seconds" }
        if let toNode, toNode < 0 { return "--to must be a node id" }
        return nil
    }
}
