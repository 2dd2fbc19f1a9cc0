/// Where a process's resident pages live, estimated from a sample of
/// addresses queried with move_pages. Counts are of sampled pages; shares are
/// over the resident ones (pages never touched have no node).
public struct PagePlacement: Hashable, Sendable, Codable {
    /// Addresses queried (K).
    public var queried: Int
    /// Sampled pages resident on some node, counted per node.
    public var pagesByNode: [NodeID: Int]
    /// Sampled addresses with no page behind them (never touched, the shared
    /// zero page, or swapped out): -EFAULT or -ENOENT depending on the kernel.
    public var notResident: Int
    /// Sampled addresses that answered another error (e.g. -EACCES), or
    /// whose mapping vanished between reading maps and the query.
    public var failed: Int
    /// The number of independent pages the sample is worth: less than
    /// `resident` when pages were taken in contiguous runs, whose
    /// neighbours tend to share a node (design effect).
    public var effectiveSampleSize: Double

    public init(queried: Int, pagesByNode: [NodeID: Int], notResident: Int, failed: Int,
                effectiveSampleSize: Double? = nil) {
        self.queried = queried
        self.pagesByNode = pagesByNode
        self.notResident = notResident
        self.failed = failed
        self.effectiveSampleSize = effectiveSampleSize ?? Double(pagesByNode.values.reduce(0, +))
    }

    public static let empty = PagePlacement(queried: 0, pagesByNode: [:], notResident: 0, failed: 0)

    public var resident: Int { pagesByNode.values.reduce(0, +) }

    /// How many sampled pages one independent page is worth (1 for random pages).
    public var designEffect: Double {
        effectiveSampleSize > 0 ? max(1, Double(resident) / effectiveSampleSize) : 1
    }

    /// The node's share of resident pages; nil when no sampled page was resident.
    public func share(of node: NodeID) -> Double? {
        let total = resident
        guard total > 0 else { return nil }
        return Double(pagesByNode[node] ?? 0) / Double(total)
    }

    /// Half-width of the 95 % interval of the node's share (Wilson score
    /// interval over the effective sample size, so it stays honest at 0 and 1).
    public func ci95(of node: NodeID) -> Double? {
        guard let p = share(of: node) else { return nil }
        return Proportion.wilsonHalfWidth(p: p, n: effectiveSampleSize)
    }

    /// Shares of every node with pages, summing to 1.
    public var shares: [NodeID: Double] {
        let total = Double(resident)
        guard total > 0 else { return [:] }
        return pagesByNode.mapValues { Double($0) / total }
    }

    /// The node holding most sampled pages (lowest id on a tie).
    public var majorityNode: NodeID? {
        pagesByNode.filter { $0.value > 0 }.max { a, b in
            a.value != b.value ? a.value < b.value : a.key > b.key
        }?.key
    }
}

/// Statistics of a sampled proportion.
public enum Proportion {
    /// z for a two-sided 95 % interval.
    public static let z95 = 1.959964

    /// Half of the Wilson score interval's width; the interval is asymmetric
    /// near 0 and 1, so the larger of its two sides around `p` is returned.
    public static func wilsonHalfWidth(p: Double, n: Double, z: Double = z95) -> Double {
        guard n > 0 else { return 1 }
        let z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        return max(abs(centre + spread - p), abs(p - (centre - spread)))
    }
}
