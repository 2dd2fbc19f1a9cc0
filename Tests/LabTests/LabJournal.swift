// The daemon's journal as the lab reads it: JSON lines decoded here with
// JSONSerialization, not with the code under test, so that a check of
// "the daemon acted" or "it did not" reads what is really in the file.
import Foundation

struct LabJournal {
    struct Entry {
        var id: String
        var phase: String
        var kind: String?
        var pids: Set<Int>
        var status: String?
        var pagesMoved: Int
        /// For a `restored` line: the id of the action undone.
        var restores: String?
    }

    var entries: [Entry]

    /// A journal the guest script copied back; a missing or empty one fails
    /// (a check that "nothing was done" must not pass on no file).
    init(_ run: LabRun, _ name: String = "journal.jsonl") throws {
        let text = try run.text(name)
        entries = try text.split(separator: "\n").map { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["id"] as? String, let phase = object["phase"] as? String
            else { throw LabFailure("\(name): not a journal line: \(line.prefix(300))") }
            let action = object["action"] as? [String: Any]
            let outcome = object["outcome"] as? [String: Any]
            return Entry(id: id, phase: phase, kind: action?["kind"] as? String, pids: Self.pids(in: action ?? [:]),
                         status: outcome?["status"] as? String, pagesMoved: outcome?["pagesMoved"] as? Int ?? 0,
                         restores: object["restores"] as? String)
        }
        guard !entries.isEmpty else { throw LabFailure("\(name) from the \(run.topology) guest is empty") }
    }

    /// Every "pid" value anywhere inside an action (a swap names two processes).
    static func pids(in value: Any) -> Set<Int> {
        switch value {
        case let object as [String: Any]:
            var found = Set<Int>()
            for (key, inner) in object {
                if key == "pid", let pid = inner as? Int { found.insert(pid) } else { found.formUnion(pids(in: inner)) }
            }
            return found
        case let array as [Any]:
            return array.reduce(into: Set<Int>()) { $0.formUnion(pids(in: $1)) }
        default:
            return []
        }
    }

    /// Outcome lines of actions on `pid`, of the given kinds (all kinds when empty).
    func outcomes(pid: Int, kinds: Set<String> = []) -> [Entry] {
        entries.filter { $0.phase == "outcome" && $0.pids.contains(pid) && (kinds.isEmpty || kinds.contains($0.kind ?? "")) }
    }

    /// Entries of any phase naming `pid`.
    func mentions(pid: Int) -> [Entry] { entries.filter { $0.pids.contains(pid) } }
}
