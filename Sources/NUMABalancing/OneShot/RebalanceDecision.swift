import Foundation
import NUMAActuation
import NUMAModel
import NUMAPlacement

extension RebalanceReport {
    /// Which placement the plan chose and why, in one sentence: one node,
    /// spread with memory over the nodes, memory following pinned threads,
    /// or nothing and the reason.
    public static func decision(plan: Plan, before: Observation, topology: Topology) -> String {
        let actions = plan.actions
        guard !actions.isEmpty else {
            if let first = plan.deferred.first {
                return "nothing done: " + plan.deferred.map(\.reason.summary).joined(separator: "; ")
                    + (first.reason.rule == .twoStageFilter ? " (run it again to act)" : "")
            }
            if let locality = before.locality, locality >= 0.9 {
                return "nothing to do: locality is already \(Percent.text(locality, digits: 0))"
            }
            if before.locality == nil { return "nothing to do: the process used no CPU while sampled, so nothing says where its memory belongs" }
            return "nothing to do: the engine found no placement better than the current one"
        }
        let memoryNodes = Set(actions.compactMap { action -> NodeID? in
            switch action {
            case .movePages(let a): a.to
            case .moveRanges(let a): a.to
            default: nil
            }
        })
        let spread = actions.contains { $0.reason.rule == .spreadOverActiveNodes }
        let affinity = actions.compactMap { action -> SetAffinity? in
            if case .setAffinity(let a) = action { return a } else { return nil }
        }.first
        if spread {
            let nodes = memoryNodes.map(\.rawValue).sorted()
            return "spread: the process does not fit one node, so its threads stay spread over nodes \(nodes) and "
                + "its memory is interleaved over them (" + (actions.first { $0.reason.rule == .spreadOverActiveNodes }?.reason.summary ?? "") + ")"
        }
        if let affinity, affinity.nodes.count == 1 {
            let node = affinity.nodes[0]
            let follows = memoryNodes.isEmpty ? "its memory is already there" : "its memory follows"
            return "one node: node \(node) — its threads fit there, so they move to it and \(follows) (\(affinity.reason.summary))"
        }
        if let affinity {
            return "threads to CPUs \(affinity.cpus): \(affinity.reason.summary)"
        }
        if let node = memoryNodes.sorted().first, memoryNodes.count == 1 {
            // The planner's own rule, so the sentence says what it decided.
            let pin = SpreadInterleave.isUserPinned(before, topology: topology)
            return "memory follows the threads to node \(node)"
                + (pin ? ": their affinity (CPUs \(before.allowedCPUs)) is the user's pin and is respected" : "")
                + " (" + (actions.first?.reason.summary ?? "") + ")"
        }
        if actions.contains(where: { if case .setObjectPolicy = $0 { return true } else { return false } }) {
            return "shared memory: " + (actions.first?.reason.summary ?? "")
        }
        return actions.map(\.reason.summary).joined(separator: "; ")
    }
}
