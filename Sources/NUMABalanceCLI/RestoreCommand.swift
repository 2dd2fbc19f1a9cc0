import ArgumentParser
import Foundation
import Glibc
import NUMAActuation

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

            Exit status: 0 when everything undoable was restored (or there was \
            nothing), 1 when something could not be.
            """
    )

    @Option(help: "Only this process.")
    var pid: Int32?

    @Option(name: .customLong("state-dir"), help: "Folder of the journal (default: $NUMABALANCE_STATE_DIR, /var/lib/numabalance for root, else ~/.local/state/numabalance).")
    var stateDirectory: String?

    @Flag(help: "Print JSON: {restored: [{id, pid, kind, status, detail}]}.")
    var json = false

    func run() throws {
        let journal = Journal.inDirectory(stateDirectory ?? Journal.defaultDirectory())
        let restorer = Restorer(kernel: LinuxKernel(), journal: journal, selfPID: getpid(),
                                by: "numabalance restore (pid \(getpid()))")
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
}
