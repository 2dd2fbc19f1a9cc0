import NUMAModel

/// A one-shot fixes the whole process: the engine names the ranges its
/// sample saw remote twice, but mappings too small to be sampled, and ranges
/// first seen in the last round, stay behind (a few hundred pages of the
/// runtime's own). When every private move of the plan goes to one node, the
/// move covers all the process's eligible private mappings instead — what a
/// hard bind would give; pages already there are not touched.
/// `privateRanges`: the process's mappings eligible for sampling that are
/// not shared objects, as the caller read them from its maps.
public enum WholeProcess {
    public static func extend(_ actions: [Action], privateRanges: [AddressRange]) -> [Action] {
        let moves = actions.compactMap { action -> MoveRanges? in
            if case .moveRanges(let m) = action { return m } else { return nil }
        }
        guard let first = moves.first, moves.allSatisfy({ $0.to == first.to && $0.process == first.process }),
              moves.allSatisfy({ $0.reason.rule != .spreadOverActiveNodes }),
              !actions.contains(where: { if case .movePages = $0 { return true } else { return false } })
        else { return actions }
        let ranges = privateRanges
        guard !ranges.isEmpty else { return actions }
        var reason = first.reason
        reason.summary += "; the rest of its private memory follows too (one-shot: as a hard bind would place it)"
        let whole = MoveRanges(process: first.process, ranges: ranges, to: first.to,
                               bytes: moves.reduce(0) { $0 + $1.bytes }, reason: reason)
        var replaced = false
        return actions.compactMap { action in
            guard case .moveRanges = action else { return action }
            if replaced { return nil }
            replaced = true
            return .moveRanges(whole)
        }
    }
}
