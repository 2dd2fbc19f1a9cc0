import Foundation
import Logging
import NUMAActuation
import NUMAModel
import NUMAPlacement
import NUMAPolicy
import NUMAProc
import NUMASampling
import NUMATopology
import Synchronization

/// What a previous run did, read back at start.
extension Balancer {

    func resumeFromJournal() {
        let read: (entries: [JournalEntry], damaged: Int)
        do { read = try tools.journal.read() } catch {
            logger.warning("journal unreadable; starting without it", metadata: ["error": "\(error)"])
            return
        }
        var open: [String: JournalEntry] = [:]
        let undone = Set(read.entries.compactMap(\.restores))
        for entry in read.entries {
            switch entry.phase {
            case .intent: open[entry.id] = entry
            case .outcome:
                open[entry.id] = nil
                guard let action = entry.action, let outcome = entry.outcome,
                      outcome.status == .done || outcome.status == .partial, !undone.contains(entry.id) else { continue }
                for identity in action.processes { acts.actedAtWall[identity] = entry.time }
                if case .setAffinity(let a) = action { acts.ownAffinities[a.process] = a.cpus }
                if case .swap(let s) = action {
                    acts.ownAffinities[s.a] = s.aCPUs
                    acts.ownAffinities[s.b] = s.bCPUs
                }
            case .restored: break
            }
        }
        // Only processes still alive matter (a pid and its start time).
        let alive = { (identity: ProcessIdentity) in (try? self.tools.procfs.identity(identity.pid)) == identity }
        let wallNow = Date().timeIntervalSince1970
        let cooldown = settings.config.balancing.cooldown.inSeconds
        acts.actedAtWall = acts.actedAtWall.filter { wallNow - $0.value < cooldown && alive($0.key) }
        acts.ownAffinities = acts.ownAffinities.filter { alive($0.key) }
        logger.notice("journal read", metadata: [
            "entries": "\(read.entries.count)", "damagedLines": "\(read.damaged)",
            "coolingDown": "\(acts.actedAtWall.count)", "ownPins": "\(acts.ownAffinities.count)",
            "interrupted": "\(open.count)",
        ])
        for entry in open.values {
            logger.warning("an action was interrupted (crash or kill); the process is sampled afresh",
                           metadata: ["id": "\(entry.id)", "action": "\(entry.action?.kind ?? "?")",
                                      "pid": "\(entry.action?.processes.first?.pid ?? 0)"])
        }
    }
}
