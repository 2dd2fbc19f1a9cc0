import Foundation
import NUMAModel
import NUMASystem
import Synchronization

/// Carries out a list of actions through an actuator with the journal
/// around each: the intent (with what it replaces) is on disk before the
/// action starts, the outcome after it ends. Once a process has exited,
/// the actions left for it are skipped; a stop request ends the run.
public struct PlanRunner: Sendable {
    public var actuator: any Actuator
    /// Nil for a dry run: it changes nothing, not even the journal.
    public var journal: Journal?
    public var by: String
    public var stop: StopSignal

    public init(actuator: any Actuator, journal: Journal?, by: String, stop: StopSignal = StopSignal()) {
        self.actuator = actuator
        self.journal = journal
        self.by = by
        self.stop = stop
    }

    /// Runs started by this process, for journal ids.
    private static let runs = Atomic<Int>(0)

    public func run(_ actions: [Action], onRecord: (ActionRecord) -> Void = { _ in }) -> [ActionRecord] {
        var records: [ActionRecord] = []
        var gone = Set<ProcessIdentity>()
        // Unique in this process too: two runs can start in one millisecond.
        let runID = "\(Int(Date().timeIntervalSince1970 * 1000))-\(Host.pid)-\(Self.runs.add(1, ordering: .relaxed).oldValue)"
        for (index, action) in actions.enumerated() {
            let record: ActionRecord
            if let exited = action.processes.first(where: gone.contains) {
                record = ActionRecord(action: action, outcome: ActionOutcome(
                    status: .exited, summary: "skipped: pid \(exited.pid) exited during an earlier action"))
            } else if stop.isRequested {
                record = ActionRecord(action: action, outcome: ActionOutcome(status: .stopped, summary: "skipped: stop requested"))
            } else {
                record = perform(action, id: "\(runID)-\(index)")
            }
            if record.outcome.status == .exited { gone.formUnion(action.processes) }
            records.append(record)
            onRecord(record)
        }
        return records
    }

    private func perform(_ action: Action, id: String) -> ActionRecord {
        guard let journal else { return actuator.perform(action) }
        let intent = JournalEntry(id: id, phase: .intent, time: Date().timeIntervalSince1970, by: by,
                                  action: action, replaced: actuator.prepare(action))
        do {
            try journal.append(intent)
        } catch {
            return ActionRecord(action: action, outcome: .failed(error))
        }
        var record = actuator.perform(action)
        let outcome = JournalEntry(id: id, phase: .outcome, time: Date().timeIntervalSince1970, by: by,
                                   action: action, replaced: record.replaced ?? intent.replaced,
                                   outcome: record.outcome)
        do {
            try journal.append(outcome)
        } catch {
            record.outcome.error = [record.outcome.error, "the outcome could not be journalled: \(error)"]
                .compactMap { $0 }.joined(separator: "; ")
        }
        return record
    }
}
