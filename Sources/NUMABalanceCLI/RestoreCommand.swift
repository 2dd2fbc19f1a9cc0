import ArgumentParser
import Foundation
import NUMAActuation
import NUMADaemon
import NUMASystem

/// `numabalance restore [--pid P]`: undo what the journal says numabalance
/// changed — affinity and shared objects' policies — newest first.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Undo the affinity and memory-policy changes numabalance journalled.",
        discussion: """
            Reads the journal and, newest first, gives each thread back the affinity \
            it had before numabalance changed it (threads born since get the main \
            thread's old affinity) and each shared object its old policy. Memory \
            moves are not undone: the pages stay where they are. A process that \
            exited, or whose pid now names another process, is skipped. Each undo \
            is journalled, so a second restore does nothing.

            With --kernel-balancing, only kernel.numa_balancing: the value saved \
            in /run/numabalance before 0 was written, by `numabalance prepare \
            --kernel-balancing` (the unit's ExecStartPre=) or by a daemon that did \
            not exit cleanly (the unit's ExecStopPost= runs this after every stop, \
            a crash or SIGKILL included). Nothing is done while a daemon runs: \
            the value is the service's until it stops.

            Exit status: 0 when everything undoable was restored (or there was \
            nothing), 1 when something could not be.
            """
    )

    @Flag(help: "Restore kernel.numa_balancing left saved by a daemon that did not exit cleanly, and nothing else.")
    var kernelBalancing = false

    @Option(help: "Only this process.")
    var pid: Int32?

    @Option(name: .customLong("state-dir"), help: "Folder of the journal (default: /var/lib/numabalance for root, else $NUMABALANCE_STATE_DIR or ~/.local/state/numabalance).")
    var stateDirectory: String?

    @Flag(help: "Print JSON: {restored: [{id, pid, kind, status, detail}]}.")
    var json = false

    func run() throws {
        if kernelBalancing { return try restoreKernelBalancing() }
        let journal = Journal.inDirectory(stateDirectory ?? Journal.defaultDirectory())
        let restorer = Restorer(kernel: LinuxKernel(), journal: journal, selfPID: Host.pid,
                                by: "numabalance restore (pid \(Host.pid))")
        let results: [RestoreResult]
        do { results = try restorer.restore(pid: pid) } catch {
            throw CommandError(error.description)
        }
        if json {
            struct Report: Encodable { var journal: String; var restored: [RestoreResult] }
            try Output.printJSON(Report(journal: journal.path, restored: results))
        } else if results.isEmpty {
            print("nothing to restore\(pid.map { " for pid \($0)" } ?? "") in \(journal.path)")
        } else {
            for result in results {
                print("\(result.status.rawValue): pid \(result.pid) \(result.kind): \(result.detail)")
            }
        }
        if results.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
    }

    private func restoreKernelBalancing() throws {
        let host = HostState()
        let claim = host.claim(includingService: true)
        switch (claim.lock, claim.recovered) {
        case (.failure(let error), _):
            guard let holder = error.holder else { throw CommandError(error.description) }
            print("numabalance (pid \(holder)) is running: kernel.numa_balancing is its to restore")
        case (.success(let lock), .success(let value)?):
            lock.release()
            print(value.map { "restored kernel.numa_balancing=\($0)" }
                ?? "nothing to restore: no value saved in \(host.folder)")
        case (.success(let lock), .failure(let error)?):
            lock.release()
            throw CommandError("cannot restore kernel.numa_balancing: \(error)")
        case (.success(let lock), nil):
            lock.release()
        }
    }
}
