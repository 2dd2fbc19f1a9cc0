import NUMAModel

/// Shared memory in a one-process plan: move_pages (MPOL_MF_MOVE) leaves
/// pages that other processes map where they are, and migrate_pages moves
/// them without a policy, so later faults land anywhere again. A range of a
/// shared object therefore moves through the object's own policy (mbind on
/// our mapping of it, MPOL_MF_MOVE_ALL): its pages move, and every process
/// that maps it follows the policy from then on.
public enum SharedRanges {
    /// The plan's moves with the shared-object ranges taken out and given as
    /// object policies instead (placed before the private moves).
    public static func split(_ actions: [Action], observation: Observation) -> [Action] {
        let keys = Dictionary(observation.ranges.compactMap { r in r.sharedObject.map { (r.start, $0) } },
                              uniquingKeysWith: { a, _ in a })
        var objects: [Action] = []
        var others: [Action] = []
        for action in actions {
            guard case .moveRanges(var move) = action else { others.append(action); continue }
            var byKey: [String: [AddressRange]] = [:]
            move.ranges.removeAll { range in
                guard let key = keys[range.start] else { return false }
                byKey[key, default: []].append(range)
                return true
            }
            for key in byKey.keys.sorted() {
                guard let ranges = byKey[key] else { continue }
                objects.append(objectPolicy(key: key, ranges: ranges, to: move.to, process: move.process,
                                            reason: move.reason, observation: observation))
            }
            if !move.ranges.isEmpty { others.append(.moveRanges(move)) }
        }
        let affinity = others.filter { if case .setAffinity = $0 { return true } else { return false } }
        return affinity + objects + others.filter { if case .setAffinity = $0 { return false } else { return true } }
    }

    /// `--to NODE`: every shared object of the process with pages away from
    /// the node gets MPOL_PREFERRED on it.
    public static func objectsAway(from node: NodeID, observation: Observation, reason: Reason) -> [Action] {
        var byKey: [String: [RangePlacement]] = [:]
        for range in observation.ranges {
            guard let key = range.sharedObject, range.pagesByNode.contains(where: { $0.key != node && $0.value > 0 })
            else { continue }
            byKey[key, default: []].append(range)
        }
        return byKey.keys.sorted().compactMap { key in
            byKey[key].map { ranges in
                objectPolicy(key: key, ranges: ranges.map { AddressRange(start: $0.start, end: $0.end) }, to: node,
                             process: observation.identity, reason: reason, observation: observation)
            }
        }
    }

    private static func objectPolicy(key: String, ranges: [AddressRange], to node: NodeID, process: ProcessIdentity,
                                     reason: Reason, observation: Observation) -> Action {
        let sampled = observation.ranges.filter { $0.sharedObject == key }
        let total = sampled.reduce(0) { $0 + $1.pagesByNode.values.reduce(0, +) }
        let away = sampled.reduce(0) { $0 + $1.pagesByNode.filter { $0.key != node }.values.reduce(0, +) }
        let size = ranges.reduce(UInt64(0)) { $0 + $1.bytes }
        let bytes = total > 0 ? UInt64(Double(size) * Double(away) / Double(total)) : size
        let why = Reason(
            rule: .sharedObjectPolicy,
            summary: "\(reason.summary); the range is shared memory (\(key)), so it moves by the object's "
                + "policy (mbind MPOL_PREFERRED, MPOL_MF_MOVE_ALL) and later faults by every process that maps it follow",
            source: reason.source, destination: node, comparisons: reason.comparisons,
            localityBefore: reason.localityBefore, expectedLocality: reason.expectedLocality, bytes: bytes,
            seconds: reason.seconds)
        return .setObjectPolicy(SetObjectPolicy(objectKey: key, via: process, ranges: ranges, policy: .preferred,
                                                nodes: [node], moveExisting: true, bytes: bytes, reason: why))
    }
}
