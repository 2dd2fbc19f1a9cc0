import NUMAModel

/// Turns move_pages statuses into an estimate of each node's share of the
/// resident pages, per process and per region.
public enum PlacementEstimator {
    /// Counts statuses: a node id is a resident page there; -EFAULT/-ENOENT
    /// are pages not resident; anything else (or an address known to have
    /// vanished) failed. `vanished[i]` marks addresses no longer mapped.
    public static func estimate(statuses: [Int32], vanished: Set<Int> = []) -> PagePlacement {
        var byNode: [NodeID: Int] = [:]
        var notResident = 0
        var failed = 0
        for (i, status) in statuses.enumerated() {
            if vanished.contains(i) {
                failed += 1
            } else if status >= 0 {
                byNode[NodeID(Int(status)), default: 0] += 1
            } else if PageStatus.isNotResident(status) {
                notResident += 1
            } else {
                failed += 1
            }
        }
        return PagePlacement(queried: statuses.count, pagesByNode: byNode,
                             notResident: notResident, failed: failed)
    }

    /// The estimate from runs of contiguous pages: `runLengths` gives how
    /// many consecutive statuses form each run. Neighbouring pages tend to share
    /// a node, so the sample is worth fewer independent pages than it holds:
    /// the effective size comes from the between-run variance of the ratio
    /// estimator (cluster sampling), taken at the node where it is smallest.
    public static func estimate(statuses: [Int32], runLengths: [Int], vanished: Set<Int> = []) -> PagePlacement {
        var placement = estimate(statuses: statuses, vanished: vanished)
        guard runLengths.contains(where: { $0 > 1 }), runLengths.count > 1 else { return placement }
        let resident = Double(placement.resident)
        guard resident > 0 else { return placement }
        // Per run: resident pages and pages per node.
        var runs: [(resident: Double, byNode: [NodeID: Double])] = []
        var index = 0
        for length in runLengths {
            var r = 0.0
            var byNode: [NodeID: Double] = [:]
            for i in index..<min(index + length, statuses.count) where statuses[i] >= 0 && !vanished.contains(i) {
                r += 1
                byNode[NodeID(Int(statuses[i])), default: 0] += 1
            }
            runs.append((r, byNode))
            index += length
        }
        let n = Double(runs.count)
        var effective = resident
        for (node, count) in placement.pagesByNode {
            let p = Double(count) / resident
            guard p > 0, p < 1 else { continue }
            let squares = runs.reduce(0.0) { sum, run in
                let deviation = (run.byNode[node] ?? 0) - p * run.resident
                return sum + deviation * deviation
            }
            let variance = n / (n - 1) * squares / (resident * resident)
            guard variance > 0 else { continue }
            effective = min(effective, p * (1 - p) / variance)
        }
        placement.effectiveSampleSize = max(1, min(effective, resident))
        return placement
    }

    /// Per-region node counts, for the two-stage migration filter. Flat
    /// counters and the last region remembered (samples come region by
    /// region): this runs for every sample of every process each round.
    public static func ranges(sampler: AddressSampler, addresses: [UInt64],
                              statuses: [Int32]) -> [RangePlacement] {
        let regions = sampler.regions
        let nodes = Int(statuses.max() ?? -1) + 1
        var counts = [Int](repeating: 0, count: regions.count * max(nodes, 1))
        // Per range too: what a move of the range is charged is its resident share.
        var absent = [Int](repeating: 0, count: regions.count)
        var resident = [Bool](repeating: false, count: regions.count)
        var last = -1
        for (address, status) in zip(addresses, statuses) {
            guard status >= 0 || PageStatus.isNotResident(status) else { continue }
            if last < 0 || address < regions[last].start || address >= regions[last].end {
                guard let found = sampler.region(ofAddress: address) else { continue }
                last = found
            }
            if status >= 0 {
                counts[last * nodes + Int(status)] += 1
                resident[last] = true
            } else {
                absent[last] += 1
            }
        }
        // Ranges with a resident sample only: one with none has nothing to move.
        return regions.indices.compactMap { index in
            guard resident[index] else { return nil }
            var pagesByNode: [NodeID: Int] = [:]
            for node in 0..<nodes where counts[index * nodes + node] > 0 {
                pagesByNode[NodeID(node)] = counts[index * nodes + node]
            }
            let region = regions[index]
            return RangePlacement(start: region.start, end: region.end, sharedObject: region.sharedObject,
                                  pagesByNode: pagesByNode, notResident: absent[index], pageBytes: region.pageBytes)
        }
    }
}
